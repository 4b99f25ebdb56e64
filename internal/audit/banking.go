package audit

// Event types of banking: accounts, postings, privileges, limits, payees
// and every step of a transfer or a batch of transfers. A transfer event
// names its transfer or batch in the typed fields TransferID and BatchID
// (transfer.interbank_sent, about a file of many transfers, names none);
// its Detail names them too, with the amount, for the people who read the
// log: "transfer 123 amount 5000".
const (
	AccountOpened            Type = "account.opened"
	AccountDeposit           Type = "account.deposit"
	PrivilegesChanged        Type = "privileges.changed"
	OrganizationLimitChanged Type = "organization.limit_changed"
	PayeeRegistered          Type = "payee.registered"
	PayeeDeleted             Type = "payee.deleted"
	TransferRequested        Type = "transfer.requested"
	TransferResubmitted      Type = "transfer.resubmitted"
	TransferApproved         Type = "transfer.approved"
	TransferExecuted         Type = "transfer.executed"
	TransferSentBack         Type = "transfer.sent_back"
	TransferRejected         Type = "transfer.rejected"
	TransferCancelled        Type = "transfer.cancelled"
	TransferFailed           Type = "transfer.failed"
	TransferInterbankSent    Type = "transfer.interbank_sent"
)
