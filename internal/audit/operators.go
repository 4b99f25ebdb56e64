package audit

// Event types of the bank's operators and of the written requests that one
// operator files and a second one decides (maker-checker). The actor of a
// filing is the maker, of a decision the checker; RequestRef is the
// written request's reference and Detail names the request, its kind and
// the other operator ("request 12 deposit, maker sato").
const (
	// OperatorRequestFiled: an operator filed a written request; it waits
	// for a second operator.
	OperatorRequestFiled Type = "operator.request_filed"
	// OperatorRequestApproved: a second operator approved a request and
	// its action was carried out (the action's own event follows it).
	OperatorRequestApproved Type = "operator.request_approved"
	// OperatorRequestRejected: a second operator rejected a request, with
	// a reason; nothing was done.
	OperatorRequestRejected Type = "operator.request_rejected"
	// OperatorRequestFailed: a request was approved but its action was
	// refused; nothing was done, and the request says why.
	OperatorRequestFailed Type = "operator.request_failed"
	// OperatorStaffAdded: an operator was added (or the first one, from
	// the server's command line).
	OperatorStaffAdded Type = "operator.staff_added"
	// OperatorStaffDisabled: an operator was disabled, and their
	// certificates revoked.
	OperatorStaffDisabled Type = "operator.staff_disabled"
	// OperatorCertificateAdded: an operator's console certificate was
	// recorded (Serial).
	OperatorCertificateAdded Type = "operator.certificate_added"
	// OperatorCertificatesRevoked: an operator's console certificates were
	// revoked.
	OperatorCertificatesRevoked Type = "operator.certificates_revoked"
	// PasswordsReset: a user's login and confirmation passwords were
	// reset: a master user's by the bank on a written request
	// (RequestRef), a general user's by the organization's master user
	// (the actor); both must be changed at the next login, and the user's
	// sessions ended.
	PasswordsReset Type = "user.passwords_reset"
)
