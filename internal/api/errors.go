package api

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
)

var (
	errNotFoundRoute          = errors.New("api: no such endpoint")
	errCrossOrigin            = errors.New("api: cross-origin request refused")
	errUnsupportedMediaType   = errors.New("api: request body must be application/json")
	errPasswordChangeRequired = errors.New("api: password change required")
)

// requestError is a malformed request.
type requestError struct{ detail string }

func (e *requestError) Error() string { return "api: invalid request: " + e.detail }

type errorInfo struct {
	status  int
	code    string
	message string
}

// errorTable maps domain errors to status, code and a message that tells the
// user what happened and what to do, in Japanese and then English.
var errorTable = []struct {
	err error
	errorInfo
}{
	{certs.ErrInvalidCSR, errorInfo{400, "invalid_csr", "証明書署名要求（CSR）を読み取れないか、署名が正しくありません。もう一度お試しください。 / The certificate signing request could not be read or its signature is wrong. Please try again."}},
	{certs.ErrUnsupportedKey, errorInfo{400, "unsupported_key", "この鍵の種類には対応していません（ECDSA P-256/P-384、RSA 2048〜4096ビットのみ）。 / This key type is not supported (ECDSA P-256/P-384 or RSA 2048-4096 bits only)."}},
	{certs.ErrInvalidReason, errorInfo{400, "invalid_reason", "失効理由が正しくありません（unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation）。 / Unknown revocation reason (unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation)."}},
	{identity.ErrInvalidCredentials, errorInfo{401, "invalid_credentials", "ログインIDまたはログインパスワードが正しくありません。 / The login ID or login password is incorrect."}},
	{auth.ErrNoSession, errorInfo{401, "unauthenticated", "ログインしていないか、一定時間操作がなかったためログアウトしました。もう一度ログインしてください。 / You are not logged in, or you were logged out after a period of inactivity. Please log in again."}},
	{identity.ErrInvalidConfirmation, errorInfo{403, "invalid_confirmation_password", "確認用パスワードが正しくありません。 / The confirmation password is incorrect."}},
	{auth.ErrCertificateLoginRequired, errorInfo{403, "certificate_login_required", "この団体は電子証明書方式をご利用のため、ID・パスワードではログインできません。「電子証明書ログイン」ボタンからログインしてください。 / Your organization uses certificate login: log in with the \"電子証明書ログイン\" (certificate login) button."}},
	{certs.ErrCertificateLoginNotEnabled, errorInfo{403, "certificate_login_not_enabled", "この団体は電子証明書方式の利用を申し込んでいません。書面でお申し込みのうえ、銀行の手続き完了後に発行してください。 / Your organization has not applied for certificate login. Apply to the bank in writing; issue a certificate once the bank has enabled it."}},
	{auth.ErrCertificateRequired, errorInfo{403, "certificate_required", "電子証明書が提示されていません。電子証明書をインストールしたパソコンからログインしてください。 / No client certificate was presented. Log in from the PC on which your certificate is installed."}},
	{auth.ErrCertificateMismatch, errorInfo{403, "certificate_mismatch", "このセッションは別の電子証明書でログインしたものです。もう一度ログインしてください。 / This session belongs to another certificate. Please log in again."}},
	{auth.ErrUnknownCertificate, errorInfo{403, "unknown_certificate", "この電子証明書は当行が発行したものではありません。 / This certificate was not issued by this bank."}},
	{auth.ErrCertificateRevoked, errorInfo{403, "certificate_revoked", "この電子証明書は失効しています。パソコンから削除し、ログイン画面の「電子証明書発行」から新しい証明書を発行してください。 / This certificate has been revoked. Delete it from the PC and issue a new one with \"電子証明書発行\" on the login screen."}},
	{auth.ErrCertificateExpired, errorInfo{403, "certificate_expired", "この電子証明書は有効期限が切れています。パソコンから削除し、ログイン画面の「電子証明書発行」から新しい証明書を発行してください。 / This certificate has expired. Delete it from the PC and issue a new one with \"電子証明書発行\" on the login screen."}},
	{auth.ErrCertificateNotYetValid, errorInfo{403, "certificate_not_yet_valid", "この電子証明書はまだ有効になっていません。パソコンの時計をご確認ください。 / This certificate is not valid yet. Please check the PC's clock."}},
	{auth.ErrUserUnavailable, errorInfo{403, "user_unavailable", "この電子証明書の利用者はロックまたは削除されています。マスターユーザにお問い合わせください。 / The user of this certificate is locked or deleted. Please ask your master user."}},
	{identity.ErrMasterUnlockByBank, errorInfo{403, "master_unlock_by_bank", "マスターユーザのロック解除は銀行所定の書面でお申し込みください。 / A master user is unlocked by the bank on a written request."}},
	{identity.ErrForbidden, errorInfo{403, "forbidden", "この操作はマスターユーザのみ行えます。 / Only the master user can do this."}},
	{errPasswordChangeRequired, errorInfo{403, "password_change_required", "初回ログインのため、ログインパスワードと確認用パスワードを変更してください。 / This is your first login: please change your login password and confirmation password."}},
	{errCrossOrigin, errorInfo{403, "cross_origin", "別のサイトからの要求は受け付けられません。 / Requests from another site are refused."}},
	{identity.ErrNotFound, errorInfo{404, "not_found", "該当する利用者が見つかりません。 / No such user."}},
	{certs.ErrNotFound, errorInfo{404, "not_found", "該当する電子証明書が見つかりません。 / No such certificate."}},
	{certs.ErrNoActiveCertificate, errorInfo{404, "no_active_certificate", "この利用者には有効な電子証明書がありません。 / This user has no active certificate."}},
	{errNotFoundRoute, errorInfo{404, "not_found", "このURLはありません。 / No such endpoint."}},
	{certs.ErrActiveCertificateExists, errorInfo{409, "active_certificate_exists", "すでに有効な電子証明書が発行されています。証明書を削除した・パソコンを替えた場合は、先に現在の証明書を失効させてください（一般ユーザはマスターユーザに、マスターユーザは銀行に依頼）。 / You already have an active certificate. If you deleted it or changed PCs, have it revoked first (general users: ask your master user; master users: apply to the bank)."}},
	{certs.ErrOrganizationLimit, errorInfo{409, "organization_certificate_limit", "団体で発行できる電子証明書の上限（20枚）に達しています。使っていない証明書をマスターユーザが失効させてください。 / Your organization has the maximum of 20 active certificates. Ask your master user to revoke one that is no longer used."}},
	{identity.ErrOrganizationUserLimit, errorInfo{409, "organization_user_limit", "一般ユーザは19名まで登録できます。 / An organization can have at most 19 general users."}},
	{identity.ErrLoginIDTaken, errorInfo{409, "login_id_taken", "このログインIDはすでに使われています。別のIDを指定してください。 / This login ID is already in use. Choose another."}},
	{certs.ErrAlreadyRevoked, errorInfo{409, "already_revoked", "この電子証明書はすでに失効しています。 / This certificate is already revoked."}},
	{identity.ErrNotLocked, errorInfo{409, "not_locked", "この利用者はロックされていません。 / This user is not locked."}},
	{errUnsupportedMediaType, errorInfo{415, "unsupported_media_type", "要求はJSON（application/json）で送ってください。 / Send the request as JSON (application/json)."}},
	{identity.ErrAccountLocked, errorInfo{423, "account_locked", "パスワードを6回続けて間違えたため、ロックされています。一般ユーザはマスターユーザに、マスターユーザは銀行にロック解除を依頼してください。 / The account is locked after 6 wrong passwords in a row. General users: ask your master user to unlock it; master users: apply to the bank."}},
	{identity.ErrInvalidName, errorInfo{400, "invalid_name", "氏名は1〜100文字で入力してください。 / Enter a name of 1 to 100 characters."}},
	{identity.ErrInvalidEmail, errorInfo{400, "invalid_email", "メールアドレスの形式が正しくありません。 / The e-mail address is not valid."}},
}

var (
	loginIDMessage  = errorInfo{400, "invalid_login_id", "ログインIDは英字と数字を両方含む6〜12文字で入力してください。 / A login ID has 6 to 12 letters and digits, with at least one of each."}
	passwordMessage = errorInfo{400, "invalid_password", "パスワードは8〜64文字の半角英数記号で、ログインIDと異なるものにしてください。 / A password has 8 to 64 ASCII letters, digits or symbols and differs from the login ID."}
	samePassword    = errorInfo{400, "invalid_password", "新しいパスワードは現在のパスワード、およびもう一方のパスワードと異なるものにしてください。 / The new password must differ from the current one and from the other password."}
	badRequest      = errorInfo{400, "invalid_request", "要求の形式が正しくありません。 / The request is malformed."}
	internal        = errorInfo{500, "internal_error", "ただいま処理できません。しばらくしてからもう一度お試しください。 / The request could not be processed. Please try again later."}
)

// ToStatus maps an error to an HTTP status, a stable error code and a safe
// message for the user.
func ToStatus(err error) (int, string, string) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, e.code, e.message
		}
	}
	var le *identity.LoginIDError
	var pe *identity.PasswordError
	var re *requestError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &le):
		return loginIDMessage.status, loginIDMessage.code, loginIDMessage.message
	case errors.As(err, &pe) && (pe.Reason == "same_as_current" || pe.Reason == "same_as_other"):
		return samePassword.status, samePassword.code, samePassword.message
	case errors.As(err, &pe):
		return passwordMessage.status, passwordMessage.code, passwordMessage.message
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "request_too_large", "要求が大きすぎます。 / The request is too large."
	case errors.As(err, &re):
		return badRequest.status, badRequest.code, badRequest.message
	}
	return internal.status, internal.code, internal.message
}
