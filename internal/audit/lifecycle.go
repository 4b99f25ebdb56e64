package audit

// Event types of a certificate's life after issuance (R9) and of the mails
// that tell users about it.
const (
	// CertificateRenewed: a certificate was issued in place of one about
	// to expire (R9).
	CertificateRenewed Type = "certificate.renewed"
	// CertificateExpiryNotice: the user was told that the certificate
	// expires soon and should be renewed (R9).
	CertificateExpiryNotice Type = "certificate.expiry_notice"
	// MailSent: a mail of the outbox was handed to the mail server.
	MailSent Type = "mail.sent"
	// MailResent: an operator made a failed mail of the outbox due again.
	MailResent Type = "mail.resent"
)
