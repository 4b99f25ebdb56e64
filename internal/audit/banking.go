package audit

// Event types of banking: accounts, postings, privileges, limits, payees
// and every step of a transfer or a batch of transfers. The Detail of a
// transfer event names the transfer (or batch) and its amount, for example
// "transfer 123 amount 5000".
const (
	AccountOpened            = "account.opened"
	AccountDeposit           = "account.deposit"
	PrivilegesChanged        = "privileges.changed"
	OrganizationLimitChanged = "organization.limit_changed"
	PayeeRegistered          = "payee.registered"
	PayeeDeleted             = "payee.deleted"
	TransferRequested        = "transfer.requested"
	TransferResubmitted      = "transfer.resubmitted"
	TransferApproved         = "transfer.approved"
	TransferExecuted         = "transfer.executed"
	TransferSentBack         = "transfer.sent_back"
	TransferRejected         = "transfer.rejected"
	TransferCancelled        = "transfer.cancelled"
	TransferFailed           = "transfer.failed"
	TransferInterbankSent    = "transfer.interbank_sent"
)
