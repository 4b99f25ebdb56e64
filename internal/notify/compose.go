package notify

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"kinko/internal/calendar"
)

// DefaultBankName signs the mails when Data names no bank.
const DefaultBankName = "kinko"

// Data is what a mail says.
type Data struct {
	BankName         string // signs the mail; empty: DefaultBankName
	OrganizationName string
	UserName         string // the user the mail is about
	LoginID          string // that user's login ID
	// RecipientName is the name the mail greets; empty: UserName.
	RecipientName string
	// AboutOther reports whether the recipient is the organization's
	// master user, told about another user (UserName).
	AboutOther bool
	// UserIsMaster reports whether the user the mail is about is the
	// organization's master user.
	UserIsMaster bool
	Serial       string    // the certificate's serial number in hex
	At           time.Time // when it happened
	NotAfter     time.Time // the certificate's expiry
	DaysLeft     int       // days until NotAfter, part of a day counted as a day
	// Reason is the RFC 5280 name of a revocation reason (keyCompromise).
	Reason string
	// ByBank reports that the bank revoked the certificate, on the written
	// request whose reference is RequestRef; Withdrawn, that the user
	// withdrew a certificate never used (the issuance page).
	ByBank     bool
	RequestRef string
	Withdrawn  bool
	// ConfirmationPassword reports whether the password changed is the
	// confirmation password (確認用パスワード), not the login password.
	ConfirmationPassword bool

	// The transfer or batch (総合振込) of a banking mail, whose requester
	// is UserName (LoginID). A batch has a BatchID, a Count and a total
	// Amount; a transfer a TransferID, an Amount and its payee.
	TransferID, BatchID int64
	Amount              int64 // yen
	Count               int
	PayeeName           string
	PayeeBankCode       string
	PayeeBranchCode     string
	ExecutionDate       calendar.Date
	SourceFile          string // the batch's file name
	// ActorName is the user who sent back or rejected it; empty when the
	// requester did, or the system.
	ActorName string
	// Comment is the comment of a send-back or rejection.
	Comment string
	// FailureReason says why it failed (不能).
	FailureReason string
}

// Compose writes the subject and body of a mail of kind. The body is plain
// text, Japanese first, then English, with lines separated by "\n". It
// names the organization, the user, the certificate's serial number and the
// dates (in Japan time), says what to do next, and carries no link.
func Compose(kind Kind, d Data) (subject, body string, err error) {
	if d.OrganizationName == "" || d.UserName == "" || d.LoginID == "" || d.At.IsZero() {
		return "", "", fmt.Errorf("%w: %s needs the organization, the user, the login ID and the time", ErrMissingData, kind)
	}
	switch kind {
	case CertificateIssued, CertificateRenewed, CertificateRevoked, ExpiryNotice:
		if d.Serial == "" {
			return "", "", fmt.Errorf("%w: %s needs the certificate's serial number", ErrMissingData, kind)
		}
	}
	switch kind {
	case CertificateIssued, CertificateRenewed, ExpiryNotice:
		if d.NotAfter.IsZero() {
			return "", "", fmt.Errorf("%w: %s needs the certificate's expiry", ErrMissingData, kind)
		}
	}
	if bankingKind(kind) && (d.TransferID == 0 && d.BatchID == 0 || d.Amount <= 0) {
		return "", "", fmt.Errorf("%w: %s needs the transfer or batch and its amount", ErrMissingData, kind)
	}
	c := composer{d: d, bank: safe(d.BankName), org: safe(d.OrganizationName), user: safe(d.UserName),
		loginID: safe(d.LoginID), serial: safe(d.Serial)}
	if c.bank == "" {
		c.bank = DefaultBankName
	}
	c.to = c.user
	if d.RecipientName != "" {
		c.to = safe(d.RecipientName)
	}
	var m text
	switch kind {
	case CertificateIssued:
		m = c.issued()
	case CertificateRenewed:
		m = c.renewed()
	case CertificateRevoked:
		m = c.revoked()
	case ExpiryNotice:
		m = c.expiry()
	case UserLocked:
		m = c.locked()
	case PasswordChanged:
		m = c.passwordChanged()
	case PasswordsReset:
		m = c.passwordsReset()
	case TransferAwaitingApproval:
		m = c.awaitingApproval()
	case TransferSentBack:
		m = c.sentBack()
	case TransferRejected:
		m = c.rejected()
	case TransferExecuted:
		m = c.executed()
	case TransferFailed:
		m = c.failed()
	default:
		return "", "", fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	return c.subject(m), c.body(m), nil
}

// text is the text of one mail in both languages.
type text struct {
	subjectJA, subjectEN string
	ja, en               section
}

// section is one language's part of a mail.
type section struct {
	lead  []string    // what happened, one paragraph each
	facts [][2]string // label, value
	next  []string    // what to do, one paragraph each
}

type composer struct {
	d                                    Data
	bank, org, user, to, loginID, serial string
}

// jaDate writes a time as 2026年11月25日 15:04 (Japan time).
func jaDate(t time.Time) string { return t.In(calendar.JST).Format("2006年1月2日 15:04") }

// enDate writes a time as 2026-11-25 15:04 JST.
func enDate(t time.Time) string { return t.In(calendar.JST).Format("2006-01-02 15:04") + " JST" }

// whoJA and whoEN name the user the mail is about, for the master's copy.
func (c composer) whoJA() string {
	return fmt.Sprintf("%sさん（ログインID %s）", c.user, c.loginID)
}
func (c composer) whoEN() string { return fmt.Sprintf("%s (login ID %s)", c.user, c.loginID) }

func (c composer) certFactsJA(dateLabel string, at time.Time) [][2]string {
	f := [][2]string{{"団体名", c.org}, {"利用者", c.user}, {"ログインID", c.loginID}, {"シリアル番号", c.serial}}
	if dateLabel != "" {
		f = append(f, [2]string{dateLabel, jaDate(at)})
	}
	return f
}

func (c composer) certFactsEN(dateLabel string, at time.Time) [][2]string {
	f := [][2]string{{"Organization", c.org}, {"User", c.user}, {"Login ID", c.loginID}, {"Serial number", c.serial}}
	if dateLabel != "" {
		f = append(f, [2]string{dateLabel, enDate(at)})
	}
	return f
}

// notYouJA tells whom to call when the user did not do it.
func (c composer) notYouJA() string {
	if c.d.UserIsMaster || c.d.AboutOther {
		return "お心当たりがない場合は、すぐにお取引店にご連絡ください。"
	}
	return "お心当たりがない場合は、すぐにマスターユーザにご連絡ください。"
}

func (c composer) notYouEN() string {
	if c.d.UserIsMaster || c.d.AboutOther {
		return "If you know nothing of this, contact your branch of the bank at once."
	}
	return "If you know nothing of this, tell your master user at once."
}

func (c composer) issued() text {
	return text{
		subjectJA: "電子証明書を発行しました", subjectEN: "Certificate issued",
		ja: section{
			lead:  []string{"電子証明書を発行しました。"},
			facts: append(c.certFactsJA("発行日時", c.d.At), [2]string{"有効期限", jaDate(c.d.NotAfter)}),
			next: []string{
				"この電子証明書は、発行したパソコンでだけ使えます。ほかのパソコンには移せません。ログイン画面の「電子証明書ログイン」からログインしてください。",
				"有効期限が近づくと、トップ画面とメールで更新をご案内します。",
				c.notYouJA(),
			},
		},
		en: section{
			lead:  []string{"A certificate was issued to you."},
			facts: append(c.certFactsEN("Issued", c.d.At), [2]string{"Expires", enDate(c.d.NotAfter)}),
			next: []string{
				"The certificate works only on the PC on which it was issued; it cannot be moved to another PC. Log in with the \"Certificate login\" (電子証明書ログイン) button of the login screen.",
				"As it nears its expiry, the top screen and a mail will ask you to renew it.",
				c.notYouEN(),
			},
		},
	}
}

func (c composer) renewed() text {
	return text{
		subjectJA: "電子証明書を更新しました", subjectEN: "Certificate renewed",
		ja: section{
			lead:  []string{"電子証明書を更新し、新しい電子証明書を発行しました。"},
			facts: append(c.certFactsJA("発行日時", c.d.At), [2]string{"新しい有効期限", jaDate(c.d.NotAfter)}),
			next: []string{
				"次回から、新しい電子証明書で「電子証明書ログイン」からログインしてください。新しい電子証明書で初めてログインしたとき、古い電子証明書は失効します。そのあと、古い電子証明書はパソコンから削除してください。",
				c.notYouJA(),
			},
		},
		en: section{
			lead:  []string{"Your certificate was renewed: a new certificate was issued."},
			facts: append(c.certFactsEN("Issued", c.d.At), [2]string{"New expiry", enDate(c.d.NotAfter)}),
			next: []string{
				"From now on, log in with the new certificate (\"Certificate login\", 電子証明書ログイン). When you first log in with it, the old certificate is revoked; then delete the old one from the PC.",
				c.notYouEN(),
			},
		},
	}
}

// reasonWords are revocation reasons in words, Japanese and English.
var reasonWords = map[string][2]string{
	"unspecified":          {"その他（誤って削除した場合など）", "other (for example, deleted by mistake)"},
	"keyCompromise":        {"パソコンの紛失・盗難、または他人に使われたおそれ", "the PC was lost or stolen, or someone else may have used the certificate"},
	"affiliationChanged":   {"利用者の退任・異動", "the user left or changed duties"},
	"superseded":           {"パソコンの買い替え・交換、または新しい電子証明書への切り替え", "replaced by a new PC or a new certificate"},
	"cessationOfOperation": {"パソコンの廃棄・譲渡、または利用の終了", "the PC is discarded or given away, or no longer used"},
}

// ReasonWords returns a revocation reason in words, Japanese and English;
// an unknown reason is given as it is.
func ReasonWords(reason string) (ja, en string) {
	if w, ok := reasonWords[reason]; ok {
		return w[0], w[1]
	}
	if reason == "" {
		return reasonWords["unspecified"][0], reasonWords["unspecified"][1]
	}
	return safe(reason), safe(reason)
}

func (c composer) revoked() text {
	reasonJA, reasonEN := ReasonWords(c.d.Reason)
	m := text{subjectJA: "電子証明書を失効しました", subjectEN: "Certificate revoked"}
	m.ja.facts = append(c.certFactsJA("失効日時", c.d.At), [2]string{"失効の理由", reasonJA})
	m.en.facts = append(c.certFactsEN("Revoked", c.d.At), [2]string{"Reason", reasonEN})
	switch {
	case c.d.ByBank:
		// The bank acts on a written request: the mail names it, so that
		// the organization can match it with its own papers.
		by := "お取引店（" + c.bank + "）が、書面によるお届けにもとづいて失効させました"
		byEN := "Revoked by the bank (" + c.bank + ") on a written request"
		if ref := safe(c.d.RequestRef); ref != "" {
			by += "（受付番号 " + ref + "）"
			byEN += " (reference " + ref + ")"
		}
		m.ja.facts = append(m.ja.facts, [2]string{"手続き", by})
		m.en.facts = append(m.en.facts, [2]string{"Action", byEN})
	case c.d.Withdrawn:
		m.ja.facts = append(m.ja.facts, [2]string{"手続き", "発行の画面で、ご本人が取り消しました（保存されなかった電子証明書）"})
		m.en.facts = append(m.en.facts, [2]string{"Action", "Withdrawn by its user on the issuance page (a certificate never saved)"})
	}
	if c.d.AboutOther {
		m.ja.lead = []string{c.whoJA() + "の電子証明書を失効しました。この電子証明書では、もうログインできません。"}
		m.ja.next = []string{
			c.user + "さんが引き続きご利用になる場合は、" + c.user + "さんご本人が、ご利用になるパソコンでログイン画面の「電子証明書発行」から新しい電子証明書を発行できます。失効した電子証明書はパソコンから削除するよう、お伝えください。",
			c.notYouJA(),
		}
		m.en.lead = []string{"The certificate of " + c.whoEN() + " was revoked. It can no longer be used to log in."}
		m.en.next = []string{
			"To go on using the service, " + c.user + " can issue a new certificate on the PC to be used, with \"Certificate issuance\" (電子証明書発行) on the login screen. Please ask them to delete the revoked certificate from the PC.",
			c.notYouEN(),
		}
		return m
	}
	m.ja.lead = []string{"あなたの電子証明書を失効しました。この電子証明書では、もうログインできません。"}
	m.ja.next = []string{
		"引き続きご利用になる場合は、ご利用になるパソコンでログイン画面の「電子証明書発行」から、新しい電子証明書を発行してください。失効した電子証明書はパソコンから削除してください。",
		c.notYouJA(),
	}
	m.en.lead = []string{"Your certificate was revoked. It can no longer be used to log in."}
	m.en.next = []string{
		"To go on using the service, issue a new certificate on the PC you use, with \"Certificate issuance\" (電子証明書発行) on the login screen. Delete the revoked certificate from the PC.",
		c.notYouEN(),
	}
	return m
}

func (c composer) expiry() text {
	days := c.d.DaysLeft
	return text{
		subjectJA: fmt.Sprintf("電子証明書の有効期限が近づいています（あと%d日）", days),
		subjectEN: fmt.Sprintf("Your certificate expires in %d %s", days, plural(days, "day", "days")),
		ja: section{
			lead:  []string{fmt.Sprintf("あなたの電子証明書は、あと%d日で有効期限が切れます。", days)},
			facts: append(c.certFactsJA("", time.Time{}), [2]string{"有効期限", jaDate(c.d.NotAfter)}),
			next: []string{
				"有効期限が切れる前に、更新してください。いつものパソコンで「電子証明書ログイン」からログインし、トップ画面の案内に従って更新できます。",
				"有効期限が切れると、この電子証明書ではログインできなくなります。その場合は、パソコンから削除し、ログイン画面の「電子証明書発行」から新しい電子証明書を発行してください。",
			},
		},
		en: section{
			lead:  []string{fmt.Sprintf("Your certificate expires in %d %s.", days, plural(days, "day", "days"))},
			facts: append(c.certFactsEN("", time.Time{}), [2]string{"Expires", enDate(c.d.NotAfter)}),
			next: []string{
				"Please renew it before it expires: log in on your usual PC with \"Certificate login\" (電子証明書ログイン), and follow the notice on the top screen.",
				"Once it has expired, it can no longer be used to log in. Then delete it from the PC and issue a new certificate with \"Certificate issuance\" (電子証明書発行) on the login screen.",
			},
		},
	}
}

func (c composer) locked() text {
	m := text{subjectJA: "ログインがロックされました", subjectEN: "Login locked"}
	m.ja.facts = [][2]string{{"団体名", c.org}, {"利用者", c.user}, {"ログインID", c.loginID}, {"ロックした日時", jaDate(c.d.At)}}
	m.en.facts = [][2]string{{"Organization", c.org}, {"User", c.user}, {"Login ID", c.loginID}, {"Locked", enDate(c.d.At)}}
	if c.d.AboutOther {
		m.ja.lead = []string{c.whoJA() + "は、パスワードを続けて間違えたため、ロックされました。ロックが解除されるまで、ログインできません。"}
		m.ja.next = []string{
			c.user + "さんご本人からロック解除のご依頼があれば、マスターユーザの「利用者管理」の画面から解除できます（確認用パスワードが必要です）。",
			"ご本人に心当たりがない場合は、第三者がログインしようとしたおそれがあります。お取引店にご相談ください。",
		}
		m.en.lead = []string{c.whoEN() + " was locked after too many wrong passwords in a row, and cannot log in until unlocked."}
		m.en.next = []string{
			"If " + c.user + " asks you to, unlock them on the \"Users\" (利用者管理) screen of the master user (this needs your confirmation password).",
			"If " + c.user + " knows nothing of this, someone else may have tried to log in: please consult your branch of the bank.",
		}
		return m
	}
	m.ja.lead = []string{"パスワードを続けて間違えたため、あなたのログインIDはロックされました。ロックが解除されるまで、ログインできません。"}
	m.en.lead = []string{"Your login ID was locked after too many wrong passwords in a row. You cannot log in until it is unlocked."}
	if c.d.UserIsMaster {
		m.ja.next = []string{"マスターユーザのロック解除は、銀行所定の書面で、お取引店にお申し込みください。"}
		m.en.next = []string{"A master user is unlocked by the bank: apply to your branch with the bank's written form."}
	} else {
		m.ja.next = []string{"マスターユーザに、ロックの解除をご依頼ください。"}
		m.en.next = []string{"Ask your master user to unlock you."}
	}
	m.ja.next = append(m.ja.next, "ご自身で操作した覚えがない場合は、第三者がログインしようとしたおそれがあります。お取引店にご連絡ください。")
	m.en.next = append(m.en.next, "If it was not you who entered the passwords, someone else may have tried to log in: contact your branch of the bank.")
	return m
}

func (c composer) passwordChanged() text {
	whichJA, whichEN := "ログインパスワード", "login password"
	if c.d.ConfirmationPassword {
		whichJA, whichEN = "確認用パスワード", "confirmation password"
	}
	return text{
		subjectJA: whichJA + "を変更しました", subjectEN: "Your " + whichEN + " was changed",
		ja: section{
			lead:  []string{"あなたの" + whichJA + "を変更しました。"},
			facts: [][2]string{{"団体名", c.org}, {"利用者", c.user}, {"ログインID", c.loginID}, {"変更日時", jaDate(c.d.At)}},
			next: []string{
				"ご自身で変更した場合は、このメールは破棄してください。",
				"ご自身で変更した覚えがない場合は、第三者に使われたおそれがあります。すぐにお取引店にご連絡ください。",
			},
		},
		en: section{
			lead:  []string{"Your " + whichEN + " was changed."},
			facts: [][2]string{{"Organization", c.org}, {"User", c.user}, {"Login ID", c.loginID}, {"Changed", enDate(c.d.At)}},
			next: []string{
				"If you changed it yourself, you may delete this mail.",
				"If you did not change it, someone else may be using your login: contact your branch of the bank at once.",
			},
		},
	}
}

// passwordsReset tells the user that both passwords were reset, by whom,
// and where the new ones come from; never the passwords themselves.
func (c composer) passwordsReset() text {
	m := text{subjectJA: "パスワードを再設定しました", subjectEN: "Your passwords were reset"}
	m.ja.facts = [][2]string{{"団体名", c.org}, {"利用者", c.user}, {"ログインID", c.loginID}, {"再設定日時", jaDate(c.d.At)}}
	m.en.facts = [][2]string{{"Organization", c.org}, {"User", c.user}, {"Login ID", c.loginID}, {"Reset", enDate(c.d.At)}}
	if c.d.ByBank {
		lead := "書面によるお届けにもとづいて、当行があなたのログインパスワードと確認用パスワードを再設定しました。"
		leadEN := "On your written request, the bank reset your login password and confirmation password."
		if ref := safe(c.d.RequestRef); ref != "" {
			lead = "書面によるお届けにもとづいて（受付番号 " + ref + "）、当行があなたのログインパスワードと確認用パスワードを再設定しました。"
			leadEN = "On your written request (reference " + ref + "), the bank reset your login password and confirmation password."
		}
		m.ja.lead = []string{lead, "これまでのログインはすべて終了しました。"}
		m.en.lead = []string{leadEN, "Every login you had open was ended."}
		m.ja.next = []string{"新しい初期パスワードは、お取引店からお渡しする暗証番号通知書でお知らせします。次回のログインで、両方のパスワードの変更が必要です。"}
		m.en.next = []string{"The new initial passwords come in the PIN notice (暗証番号通知書) your branch hands you. You must change both at your next login."}
	} else {
		m.ja.lead = []string{"マスターユーザが、あなたのログインパスワードと確認用パスワードを再設定しました。これまでのログインはすべて終了し、ロックも解除されました。"}
		m.en.lead = []string{"Your master user reset your login password and confirmation password. Every login you had open was ended, and any lock was lifted."}
		m.ja.next = []string{"新しい初期パスワードは、マスターユーザから直接お受け取りください。次回のログインで、両方のパスワードの変更が必要です。"}
		m.en.next = []string{"Get the new initial passwords from your master user in person. You must change both at your next login."}
	}
	m.ja.next = append(m.ja.next, "再設定を依頼した覚えがない場合は、すぐにお取引店にご連絡ください。")
	m.en.next = append(m.en.next, "If you did not ask for this, contact your branch of the bank at once.")
	return m
}

// yen writes an amount as 30,000円 and JPY 30,000.
func yen(n int64) (ja, en string) {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "円", "JPY " + b.String()
}

// paymentFacts are the facts of the transfer or batch, in both languages.
func (c composer) paymentFacts() (ja, en [][2]string) {
	d := c.d
	amountJA, amountEN := yen(d.Amount)
	ja = [][2]string{{"団体名", c.org}, {"依頼者", c.user + "（ログインID " + c.loginID + "）"}}
	en = [][2]string{{"Organization", c.org}, {"Requested by", c.user + " (login ID " + c.loginID + ")"}}
	if d.BatchID != 0 {
		ja = append(ja, [2]string{"総合振込の番号", fmt.Sprint(d.BatchID)})
		en = append(en, [2]string{"Transfer file number", fmt.Sprint(d.BatchID)})
		if d.SourceFile != "" {
			ja = append(ja, [2]string{"ファイル名", safe(d.SourceFile)})
			en = append(en, [2]string{"File name", safe(d.SourceFile)})
		}
		ja = append(ja, [2]string{"件数", fmt.Sprintf("%d件", d.Count)}, [2]string{"合計金額", amountJA})
		en = append(en, [2]string{"Transfers", fmt.Sprint(d.Count)}, [2]string{"Total", amountEN})
	} else {
		ja = append(ja, [2]string{"振込の番号", fmt.Sprint(d.TransferID)}, [2]string{"金額", amountJA})
		en = append(en, [2]string{"Transfer number", fmt.Sprint(d.TransferID)}, [2]string{"Amount", amountEN})
		if d.PayeeName != "" {
			ja = append(ja, [2]string{"振込先", fmt.Sprintf("%s（金融機関コード %s 支店コード %s）", safe(d.PayeeName), safe(d.PayeeBankCode), safe(d.PayeeBranchCode))})
			en = append(en, [2]string{"Payee", fmt.Sprintf("%s (bank code %s, branch code %s)", safe(d.PayeeName), safe(d.PayeeBankCode), safe(d.PayeeBranchCode))})
		}
	}
	if !d.ExecutionDate.IsZero() {
		t := d.ExecutionDate.Time()
		ja = append(ja, [2]string{"振込指定日", t.Format("2006年1月2日")})
		en = append(en, [2]string{"Execution date", t.Format("2006-01-02")})
	}
	return ja, en
}

// whatJA and whatEN name the transfer or the batch.
func (c composer) whatJA() string {
	if c.d.BatchID != 0 {
		return "総合振込"
	}
	return "振込"
}

func (c composer) whatEN() string {
	if c.d.BatchID != 0 {
		return "transfer file"
	}
	return "transfer"
}

// byJA and byEN name who decided, when it was another user.
func (c composer) byJA() string {
	if c.d.ActorName == "" {
		return ""
	}
	return safe(c.d.ActorName) + "さんにより"
}

func (c composer) byEN() string {
	if c.d.ActorName == "" {
		return ""
	}
	return " by " + safe(c.d.ActorName)
}

// askJA and askEN say whom the requester asks about a decision.
const (
	askJA = "ご不明な点は、承認者またはマスターユーザにご確認ください。"
	askEN = "For any question, ask the approver or your master user."
)

func (c composer) awaitingApproval() text {
	ja, en := c.paymentFacts()
	ja = append(ja, [2]string{"依頼日時", jaDate(c.d.At)})
	en = append(en, [2]string{"Requested", enDate(c.d.At)})
	return text{
		subjectJA: "承認待ちの" + c.whatJA() + "があります", subjectEN: "A " + c.whatEN() + " awaits your approval",
		ja: section{
			lead:  []string{c.user + "さんから、" + c.whatJA() + "の承認の依頼がありました。"},
			facts: ja,
			next: []string{
				"ログインし、「承認」の画面で内容をご確認のうえ、承認、差戻し、または却下してください。承認には確認用パスワードが必要です。",
				"ほかの承認者が先に承認、差戻し、または却下した場合は、操作は不要です。",
				"お心当たりのない依頼は承認せず、依頼者またはマスターユーザにご確認ください。",
			},
		},
		en: section{
			lead:  []string{c.user + " asks for your approval of a " + c.whatEN() + "."},
			facts: en,
			next: []string{
				"Log in, check it on the \"Approvals\" (承認) screen, and approve, send back or reject it. Approving needs your confirmation password.",
				"If another approver has decided it already, there is nothing for you to do.",
				"Do not approve a request you know nothing of: ask the requester or your master user.",
			},
		},
	}
}

// decidedFacts adds the comment of a decision to the facts.
func (c composer) decidedFacts(labelJA, labelEN string) (ja, en [][2]string) {
	ja, en = c.paymentFacts()
	ja = append(ja, [2]string{labelJA, jaDate(c.d.At)})
	en = append(en, [2]string{labelEN, enDate(c.d.At)})
	if c.d.ActorName != "" {
		ja = append(ja, [2]string{"承認者", safe(c.d.ActorName)})
		en = append(en, [2]string{"Approver", safe(c.d.ActorName)})
	}
	if c.d.Comment != "" {
		ja = append(ja, [2]string{"コメント", safe(c.d.Comment)})
		en = append(en, [2]string{"Comment", safe(c.d.Comment)})
	}
	return ja, en
}

func (c composer) sentBack() text {
	ja, en := c.decidedFacts("差戻し日時", "Sent back")
	m := text{
		subjectJA: "依頼した" + c.whatJA() + "が差し戻されました", subjectEN: "Your " + c.whatEN() + " was sent back",
		ja: section{lead: []string{"あなたが依頼した" + c.whatJA() + "が、" + c.byJA() + "差し戻されました。まだ実行されていません。"}, facts: ja},
		en: section{lead: []string{"The " + c.whatEN() + " you requested was sent back" + c.byEN() + ". It has not been executed."}, facts: en},
	}
	if c.d.BatchID != 0 {
		m.ja.next = []string{"コメントをご確認のうえ、必要であれば、ファイルを直して改めて依頼してください。", askJA}
		m.en.next = []string{"Please read the comment and, if need be, correct the file and request it again.", askEN}
	} else {
		m.ja.next = []string{"コメントをご確認のうえ、ログインして「振込一覧」の画面から、内容を直して再依頼するか、取り消してください。", askJA}
		m.en.next = []string{"Please read the comment, then log in and correct and resubmit it, or cancel it, from the \"Transfers\" (振込一覧) screen.", askEN}
	}
	return m
}

func (c composer) rejected() text {
	ja, en := c.decidedFacts("却下日時", "Rejected")
	return text{
		subjectJA: "依頼した" + c.whatJA() + "が却下されました", subjectEN: "Your " + c.whatEN() + " was rejected",
		ja: section{
			lead:  []string{"あなたが依頼した" + c.whatJA() + "が、" + c.byJA() + "却下されました。この" + c.whatJA() + "は実行されません。"},
			facts: ja,
			next:  []string{"却下された依頼は再依頼できません。必要な場合は、改めて新しく依頼してください。", askJA},
		},
		en: section{
			lead:  []string{"The " + c.whatEN() + " you requested was rejected" + c.byEN() + ". It will not be executed."},
			facts: en,
			next:  []string{"A rejected request cannot be resubmitted. If need be, make a new request.", askEN},
		},
	}
}

func (c composer) executed() text {
	ja, en := c.paymentFacts()
	ja = append(ja, [2]string{"実行日時", jaDate(c.d.At)})
	en = append(en, [2]string{"Executed", enDate(c.d.At)})
	return text{
		subjectJA: "依頼した" + c.whatJA() + "を実行しました", subjectEN: "Your " + c.whatEN() + " was executed",
		ja: section{
			lead:  []string{"あなたが依頼した" + c.whatJA() + "は、承認され、実行されました。お支払口座から引き落としました。"},
			facts: ja,
			next:  []string{"入出金明細でご確認いただけます。お心当たりのない場合は、すぐにマスターユーザとお取引店にご連絡ください。"},
		},
		en: section{
			lead:  []string{"The " + c.whatEN() + " you requested was approved and executed: the amount was debited from the account."},
			facts: en,
			next:  []string{"You can see it in the statement. If you know nothing of it, tell your master user and your branch of the bank at once."},
		},
	}
}

func (c composer) failed() text {
	ja, en := c.paymentFacts()
	ja = append(ja, [2]string{"不能となった日時", jaDate(c.d.At)})
	en = append(en, [2]string{"Failed", enDate(c.d.At)})
	if c.d.FailureReason != "" {
		ja = append(ja, [2]string{"理由", safe(c.d.FailureReason)})
		en = append(en, [2]string{"Reason", safe(c.d.FailureReason)})
	}
	return text{
		subjectJA: "依頼した" + c.whatJA() + "ができませんでした（不能）", subjectEN: "Your " + c.whatEN() + " could not be made",
		ja: section{
			lead:  []string{"あなたが依頼した" + c.whatJA() + "は、振込指定日に実行できませんでした（不能）。お金は動いていません。"},
			facts: ja,
			next:  []string{"理由をご確認のうえ、必要であれば、お支払口座の残高をご確認いただき、改めて依頼してください。", "ご不明な点は、お取引店にお問い合わせください。"},
		},
		en: section{
			lead:  []string{"The " + c.whatEN() + " you requested could not be executed on its date; no money moved."},
			facts: en,
			next:  []string{"Please see the reason and, if need be, check the balance of the account and request it again.", "For any question, contact your branch of the bank."},
		},
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// subject is the subject line: the bank, then Japanese, then English.
func (c composer) subject(m text) string {
	return "【" + c.bank + "】" + m.subjectJA + " / " + m.subjectEN
}

// body lays out the Japanese part, a rule, and the English part.
func (c composer) body(m text) string {
	var b strings.Builder
	b.WriteString(c.org + "\n" + c.to + " 様\n\n")
	writeSection(&b, m.ja)
	b.WriteString("このメールは送信専用のアドレスからお送りしています。ご返信いただいてもお答えできません。\n")
	b.WriteString(c.bank + "からのメールに、ログイン画面などへのリンクを載せることはありません。リンクの付いたメールが届いたら、開かずに削除してください。\n")
	b.WriteString("ご不明な点は、お取引店にお問い合わせください。\n\n")
	b.WriteString(c.bank + "\n\n")
	b.WriteString(strings.Repeat("-", 60) + "\n(English)\n\n")
	b.WriteString(c.org + "\nDear " + c.to + ",\n\n")
	writeSection(&b, m.en)
	b.WriteString("This mail comes from an address that takes no replies.\n")
	b.WriteString("Mails from " + c.bank + " never carry links to the login screen or any other page. If a mail with such a link reaches you, delete it without opening it.\n")
	b.WriteString("For any question, contact your branch of the bank.\n\n")
	b.WriteString(c.bank + "\n")
	return b.String()
}

func writeSection(b *strings.Builder, s section) {
	for _, p := range s.lead {
		b.WriteString(p + "\n")
	}
	b.WriteString("\n")
	for _, f := range s.facts {
		b.WriteString("  " + f[0] + ": " + f[1] + "\n")
	}
	b.WriteString("\n")
	for _, p := range s.next {
		b.WriteString(p + "\n")
	}
	b.WriteString("\n")
}

// linkLike matches what a mail program might turn into a link.
var linkLike = regexp.MustCompile(`(?i)://|www|http|[a-z0-9-]\.[a-z]{2,}|@`)

// safe makes a value fit for a line of the mail: control characters are
// dropped, and a value that a mail program might turn into a link (a user
// named "www.example.com") has its ASCII characters written full-width, so
// that the mail carries no link whatever the names in it.
func safe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
	if !linkLike.MatchString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r > 0x20 && r < 0x7f {
			return r - 0x21 + 0xff01
		}
		return r
	}, s)
}
