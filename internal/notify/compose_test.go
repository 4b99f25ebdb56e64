package notify_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"kinko/internal/calendar"
	"kinko/internal/notify"
)

// at is 2026-11-25 15:04 in Japan.
var at = time.Date(2026, 11, 25, 6, 4, 0, 0, time.UTC)

func baseData() notify.Data {
	return notify.Data{
		BankName: "テスト労働金庫", OrganizationName: "ひかり労働組合", UserName: "佐藤 一郎", LoginID: "clerk01",
		Serial: "5f3a9c0e1b2d4f60", At: at, NotAfter: at.AddDate(1, 0, 0), DaysLeft: 14, Reason: "keyCompromise",
		TransferID: 123, Amount: 1_230_000, Count: 1, PayeeName: "ｳｹﾄﾘ ﾀﾛｳ", PayeeBankCode: "0005", PayeeBranchCode: "001",
		ExecutionDate: calendar.NewDate(2026, 11, 26), ActorName: "山田 花子", Comment: "金額が違います", FailureReason: "残高不足",
	}
}

// cases are every kind of mail, with the variants of its recipient.
func cases() []struct {
	name string
	kind notify.Kind
	data notify.Data
	next []string // what the mail must tell to do, in both languages
} {
	d := baseData()
	master := d
	master.UserIsMaster = true
	aboutOther := d
	aboutOther.AboutOther, aboutOther.RecipientName = true, "山田 花子"
	confirm := d
	confirm.ConfirmationPassword = true
	byBank := master
	byBank.ByBank, byBank.RequestRef = true, "REV-2026-0042"
	withdrawn := d
	withdrawn.Withdrawn = true
	approver := d
	approver.RecipientName, approver.ActorName = "山田 花子", ""
	batch := approver
	batch.TransferID, batch.BatchID, batch.Count, batch.SourceFile, batch.PayeeName = 0, 5, 3, "sogo.txt", ""
	batchBack := d
	batchBack.TransferID, batchBack.BatchID, batchBack.Count, batchBack.SourceFile, batchBack.PayeeName = 0, 5, 3, "sogo.txt", ""
	transfer := []string{"振込の番号: 123", "1,230,000円", "ｳｹﾄﾘ ﾀﾛｳ（金融機関コード 0005 支店コード 001）", "振込指定日: 2026年11月26日",
		"Transfer number: 123", "JPY 1,230,000", "bank code 0005, branch code 001", "Execution date: 2026-11-26"}
	batchFacts := []string{"総合振込の番号: 5", "ｓｏｇｏ．ｔｘｔ", "件数: 3件", "合計金額: 1,230,000円", "Transfers: 3", "Total: JPY 1,230,000"}
	return []struct {
		name string
		kind notify.Kind
		data notify.Data
		next []string
	}{
		{"issued", notify.CertificateIssued, d, []string{"電子証明書ログイン", "Certificate login", "マスターユーザ"}},
		{"renewed", notify.CertificateRenewed, d, []string{"新しい電子証明書", "log in with the new certificate"}},
		{"revoked, to the user", notify.CertificateRevoked, d, []string{"「電子証明書発行」から、新しい電子証明書を発行してください", "issue a new certificate"}},
		{"revoked, to the master", notify.CertificateRevoked, aboutOther, []string{"佐藤 一郎さん（ログインID clerk01）", "can issue a new certificate", "お取引店"}},
		{"revoked by the bank, its request named", notify.CertificateRevoked, byBank, []string{"書面によるお届けにもとづいて失効させました（受付番号 REV-2026-0042）", "on a written request (reference REV-2026-0042)"}},
		{"withdrawn by its user", notify.CertificateRevoked, withdrawn, []string{"ご本人が取り消しました", "Withdrawn by its user"}},
		{"expiry notice", notify.ExpiryNotice, d, []string{"あと14日", "トップ画面", "更新", "expires in 14 days", "top screen"}},
		{"locked, general user", notify.UserLocked, d, []string{"マスターユーザに、ロックの解除をご依頼ください", "Ask your master user"}},
		{"locked, master user", notify.UserLocked, master, []string{"銀行所定の書面", "お取引店", "unlocked by the bank"}},
		{"locked, to the master", notify.UserLocked, aboutOther, []string{"利用者管理", "unlock them"}},
		{"login password changed", notify.PasswordChanged, d, []string{"ログインパスワード", "お取引店", "login password", "contact your branch"}},
		{"confirmation password changed", notify.PasswordChanged, confirm, []string{"確認用パスワード", "confirmation password"}},
		{"passwords reset by the master", notify.PasswordsReset, d, []string{"マスターユーザが、あなたのログインパスワードと確認用パスワードを再設定しました", "マスターユーザから直接お受け取りください", "Your master user reset", "change both at your next login"}},
		{"passwords reset by the bank", notify.PasswordsReset, byBank, []string{"受付番号 REV-2026-0042", "暗証番号通知書", "reference REV-2026-0042", "PIN notice"}},
		{"transfer awaiting approval", notify.TransferAwaitingApproval, approver,
			append([]string{"佐藤 一郎さんから、振込の承認の依頼", "確認用パスワード", "asks for your approval of a transfer"}, transfer...)},
		{"batch awaiting approval", notify.TransferAwaitingApproval, batch,
			append([]string{"総合振込の承認の依頼", "approval of a transfer file"}, batchFacts...)},
		{"transfer sent back", notify.TransferSentBack, d,
			append([]string{"山田 花子さんにより差し戻されました", "コメント: 金額が違います", "Comment: 金額が違います", "再依頼", "resubmit"}, transfer...)},
		{"batch sent back", notify.TransferSentBack, batchBack,
			append([]string{"総合振込が、山田 花子さんにより差し戻されました", "コメント: 金額が違います", "correct the file"}, batchFacts...)},
		{"transfer rejected", notify.TransferRejected, d,
			append([]string{"却下されました", "コメント: 金額が違います", "cannot be resubmitted"}, transfer...)},
		{"transfer executed", notify.TransferExecuted, d, append([]string{"実行されました", "入出金明細", "executed", "statement"}, transfer...)},
		{"transfer failed", notify.TransferFailed, d,
			append([]string{"実行できませんでした（不能）", "理由: 残高不足", "could not be executed", "Reason: 残高不足"}, transfer...)},
	}
}

func TestComposeEveryKind(t *testing.T) {
	seen := map[notify.Kind]bool{}
	for _, tt := range cases() {
		t.Run(tt.name, func(t *testing.T) {
			seen[tt.kind] = true
			subject, body, err := notify.Compose(tt.kind, tt.data)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			want := []string{"ひかり労働組合", "佐藤 一郎", "clerk01", "テスト労働金庫"}
			banking := strings.HasPrefix(string(tt.kind), "transfer_")
			if tt.kind != notify.UserLocked && tt.kind != notify.PasswordChanged && tt.kind != notify.PasswordsReset && !banking {
				want = append(want, "5f3a9c0e1b2d4f60")
			}
			if banking && strings.Contains(body, "5f3a9c0e1b2d4f60") {
				t.Errorf("a banking mail names a certificate:\n%s", body)
			}
			if tt.kind == notify.ExpiryNotice {
				want = append(want, "2027年11月25日 15:04", "2027-11-25 15:04 JST") // the expiry
			} else {
				want = append(want, "2026年11月25日 15:04", "2026-11-25 15:04 JST") // the event
			}
			for _, w := range append(want, tt.next...) {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if !strings.Contains(subject, "テスト労働金庫") {
				t.Errorf("subject %q does not name the bank", subject)
			}
			greet := "佐藤 一郎 様"
			if tt.data.RecipientName != "" {
				greet = tt.data.RecipientName + " 様"
			}
			if !strings.Contains(body, greet) {
				t.Errorf("body does not greet %q", greet)
			}
			// Japanese first, English below.
			ja, en := strings.Index(body, "様"), strings.Index(body, "(English)")
			if ja < 0 || en < ja || !strings.Contains(body[en:], "Dear ") {
				t.Errorf("want Japanese first, English below:\n%s", body)
			}
			if i := strings.Index(subject, " / "); i < 0 || !hasJapanese(subject[:i]) || hasJapanese(subject[i:]) {
				t.Errorf("subject %q: want Japanese / English", subject)
			}
			for _, s := range []string{subject, body} {
				assertNoLink(t, s)
			}
		})
	}
	for _, k := range notify.Kinds {
		if !seen[k] {
			t.Errorf("kind %s not tested", k)
		}
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// assertNoLink fails when s holds anything a mail program would show as a
// link.
func assertNoLink(t *testing.T, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, bad := range []string{"http", "www", "://", ".com", ".jp", ".example"} {
		if strings.Contains(low, bad) {
			t.Errorf("mail contains %q:\n%s", bad, s)
		}
	}
}

func TestComposeNamesCannotCarryLinks(t *testing.T) {
	d := baseData()
	d.OrganizationName = "www.evil.example"
	d.UserName = "Visit https://phish.example/login"
	d.BankName = "bank.example.jp"
	d.RecipientName = "x@evil.example"
	d.Reason = "http://reason.example"
	d.PayeeName, d.Comment, d.ActorName = "www.payee.example", "see https://x.example/", "a@b.example"
	d.FailureReason, d.SourceFile = "http://f.example", "www.file.example"
	for _, k := range notify.Kinds {
		t.Run(string(k), func(t *testing.T) {
			subject, body, err := notify.Compose(k, d)
			if err != nil {
				t.Fatal(err)
			}
			assertNoLink(t, subject)
			assertNoLink(t, body)
			if !strings.Contains(body, "ｗｗｗ．ｅｖｉｌ．ｅｘａｍｐｌｅ") {
				t.Errorf("organization not shown in a safe form:\n%s", body)
			}
		})
	}
	t.Run("ordinary names unchanged", func(t *testing.T) {
		d := baseData()
		d.OrganizationName, d.UserName = "ABC Co., Ltd. Union", "J. Smith"
		_, body, err := notify.Compose(notify.PasswordChanged, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "ABC Co., Ltd. Union") || !strings.Contains(body, "J. Smith") {
			t.Errorf("names changed:\n%s", body)
		}
	})
	t.Run("no line breaks from names", func(t *testing.T) {
		d := baseData()
		d.UserName = "佐藤\n\n偽の案内"
		_, body, err := notify.Compose(notify.PasswordChanged, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "佐藤偽の案内 様") {
			t.Errorf("line breaks kept:\n%s", body)
		}
	})
}

func TestComposeRevocationReasons(t *testing.T) {
	for _, reason := range []string{"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"} {
		t.Run(reason, func(t *testing.T) {
			ja, en := notify.ReasonWords(reason)
			if ja == reason || en == reason || ja == "" || en == "" {
				t.Fatalf("no words for %s: %q, %q", reason, ja, en)
			}
			d := baseData()
			d.Reason = reason
			_, body, err := notify.Compose(notify.CertificateRevoked, d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(body, ja) || !strings.Contains(body, en) {
				t.Errorf("body lacks the reason %q / %q:\n%s", ja, en, body)
			}
		})
	}
}

func TestComposeErrors(t *testing.T) {
	tests := []struct {
		name   string
		kind   notify.Kind
		change func(*notify.Data)
		want   error
	}{
		{"unknown kind", "newsletter", func(*notify.Data) {}, notify.ErrUnknownKind},
		{"no organization", notify.PasswordChanged, func(d *notify.Data) { d.OrganizationName = "" }, notify.ErrMissingData},
		{"no user", notify.UserLocked, func(d *notify.Data) { d.UserName = "" }, notify.ErrMissingData},
		{"no time", notify.UserLocked, func(d *notify.Data) { d.At = time.Time{} }, notify.ErrMissingData},
		{"no serial", notify.CertificateRevoked, func(d *notify.Data) { d.Serial = "" }, notify.ErrMissingData},
		{"no expiry", notify.ExpiryNotice, func(d *notify.Data) { d.NotAfter = time.Time{} }, notify.ErrMissingData},
		{"no transfer nor batch", notify.TransferExecuted, func(d *notify.Data) { d.TransferID = 0 }, notify.ErrMissingData},
		{"no amount", notify.TransferAwaitingApproval, func(d *notify.Data) { d.Amount = 0 }, notify.ErrMissingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := baseData()
			tt.change(&d)
			if _, _, err := notify.Compose(tt.kind, d); !errors.Is(err, tt.want) {
				t.Errorf("Compose: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestComposeDefaultBankName(t *testing.T) {
	d := baseData()
	d.BankName = ""
	subject, body, err := notify.Compose(notify.PasswordChanged, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(subject, "【"+notify.DefaultBankName+"】") || !strings.HasSuffix(body, notify.DefaultBankName+"\n") {
		t.Errorf("subject %q, body ends %q", subject, body[len(body)-20:])
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := notify.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := notify.Backoff(1000); got != notify.MaxBackoff {
		t.Errorf("Backoff(1000) = %v", got)
	}
}
