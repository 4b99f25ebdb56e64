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
