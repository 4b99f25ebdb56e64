package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// Account is a demo account, as scripts find it in demo.json.
type Account struct {
	ID      int64  `json:"id"`
	Type    string `json:"type"` // ordinary (普通) or current (当座)
	Branch  string `json:"branch"`
	Number  string `json:"number"`
	Holder  string `json:"holder"`
	Balance int64  `json:"-"` // at the start; it changes while the demo runs
}

// PendingTransfer is a transfer awaiting the master's approval.
type PendingTransfer struct {
	ID            int64
	RequestedBy   string // login ID
	PayeeName     string
	Amount        int64
	ExecutionDate calendar.Date
}

// The account holders' names (口座名義).
const (
	hikariHolder = "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ ﾁﾕｳｵｳｼﾌﾞ"
	midoriHolder = "ﾐﾄﾞﾘｾｲｶﾂｷﾖｳﾄﾞｳｸﾐｱｲ"
)

// demoOperator is the bank's operator in the audit log of the seed.
const demoOperator = "demo"

// historyMonths is how far back the accounts' history goes.
const historyMonths = 3

// seedClock is the clock of the seed's services: it is set to each moment
// of the history in turn.
type seedClock struct{ t time.Time }

func (c *seedClock) now() time.Time { return c.t }

// seeder makes the demo's organizations and history at their past times.
type seeder struct {
	c      Config
	clock  *seedClock
	ident  *identity.Service
	bank   *banking.Service
	today  calendar.Date
	start  calendar.Date // the first business day of the history
	users  map[string]identity.User
	acct   map[string]banking.Account // by branch-type-number
	payees map[string]banking.Payee   // by payee key
}

func newSeeder(c Config) (*seeder, error) {
	now := c.Now()
	today := calendar.DateOf(now)
	first := calendar.DateOf(now.AddDate(0, -historyMonths, 0))
	start, err := c.Calendar.OnOrAfter(first)
	if err != nil {
		return nil, fmt.Errorf("demo: the start of the history: %w", err)
	}
	sd := &seeder{c: c, clock: &seedClock{}, today: today, start: start,
		users: map[string]identity.User{}, acct: map[string]banking.Account{}, payees: map[string]banking.Payee{}}
	sd.clock.t = sd.at(sd.start, 8, 0)
	sd.ident, err = identity.New(identity.Config{Store: c.Store, Hasher: identity.Hasher{Params: c.Hasher}, Now: sd.clock.now})
	if err != nil {
		return nil, err
	}
	cal, cutoff := c.Calendar, c.Cutoff
	fees := c.Fees
	if fees == nil {
		def := banking.DefaultFees()
		fees = &def
	}
	sd.bank, err = banking.New(banking.Config{Store: c.Store, Identity: sd.ident, Now: sd.clock.now, BankCode: c.BankCode,
		NormalizeName: zengin.NormalizeKana, Fees: fees,
		ExecutionDate: func(now time.Time, d calendar.Date, interbank bool) (calendar.Date, error) {
			out, _, err := cal.ExecutionDate(now, d, interbank, cutoff)
			return out, err
		}})
	if err != nil {
		return nil, err
	}
	return sd, nil
}

// at returns a time of day on d in Japan.
func (sd *seeder) at(d calendar.Date, hour, minute int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, calendar.JST)
}

// businessDay returns the first business day on or after the day-th of a
// month, and whether it falls in the history (from its start, before today).
func (sd *seeder) businessDay(year int, month time.Month, day int) (calendar.Date, bool) {
	d, err := sd.c.Calendar.OnOrAfter(calendar.NewDate(year, month, day))
	if err != nil {
		return calendar.Date{}, false
	}
	return d, !d.Before(sd.start) && d.Before(sd.today)
}

func accountKey(branch string, typ banking.AccountType, number string) string {
	return branch + "-" + string(typ) + "-" + number
}

// payee is a payee the demo's organizations register.
type payee struct {
	key, by  string // by: the login ID of the user who registers it
	account  banking.PayeeAccount
	nickname string
}

func (sd *seeder) payeeList() []payee {
	here := sd.c.BankCode
	return []payee{
		{"hikari-rent", "tanaka01", banking.PayeeAccount{BankCode: "0009", BranchCode: "001", AccountType: banking.Ordinary, AccountNumber: "1357913", Name: "ｱｵﾊﾞﾌﾄﾞｳｻﾝ(ｶ"}, "事務所家賃 あおば不動産"},
		{"hikari-print", "tanaka01", banking.PayeeAccount{BankCode: "0005", BranchCode: "318", AccountType: banking.Ordinary, AccountNumber: "2468024", Name: "ｶ)ﾐﾅﾄｲﾝｻﾂ"}, "機関紙印刷 みなと印刷"},
		{"hikari-coop", "tanaka01", banking.PayeeAccount{BankCode: here, BranchCode: "002", AccountType: banking.Ordinary, AccountNumber: "3020001", Name: midoriHolder}, "みどり生協（物品購入）"},
		{"midori-rent", "ito00001", banking.PayeeAccount{BankCode: "0001", BranchCode: "120", AccountType: banking.Ordinary, AccountNumber: "1112223", Name: "ｶ)ｻｸﾗｴｽﾃ-ﾄ"}, "店舗家賃 さくらエステート"},
		{"midori-farm", "ito00001", banking.PayeeAccount{BankCode: "0009", BranchCode: "402", AccountType: banking.Current, AccountNumber: "7654321", Name: "ﾐﾄﾞﾘﾉｳｻﾝ(ｶ"}, "青果仕入 みどり農産"},
		{"midori-haul", "ito00001", banking.PayeeAccount{BankCode: "0005", BranchCode: "045", AccountType: banking.Ordinary, AccountNumber: "5556667", Name: "ﾂﾊﾞｻｳﾝﾕ(ｶ"}, "配送委託 つばさ運輸"},
		{"midori-current", "ito00001", banking.PayeeAccount{BankCode: here, BranchCode: "002", AccountType: banking.Current, AccountNumber: "0300001", Name: midoriHolder}, "当座口座（支払用）"},
	}
}

// The members whose dues (組合費) come in every month, and the amounts.
var (
	unionMembers = []string{"ﾀﾅｶ ｲﾁﾛｳ", "ｽｽﾞｷ ｼﾞﾛｳ", "ｻﾄｳ ﾊﾅｺ", "ﾔﾏﾓﾄ ｹﾝｼﾞ", "ﾀｶﾊｼ ﾕｲ", "ﾜﾀﾅﾍﾞ ｻﾄｼ",
		"ｺﾊﾞﾔｼ ﾐﾕｷ", "ﾅｶﾑﾗ ﾀﾞｲｽｹ", "ｲﾉｳｴ ｱﾔ", "ｷﾑﾗ ｼﾖｳﾀ"}
	unionDues    = []int64{4_500, 4_500, 5_000, 4_000, 3_500, 4_500, 5_000, 4_000, 3_500, 4_500}
	coopMembers  = []string{"ﾔﾏﾀﾞ ｹｲｺ", "ﾏﾂﾓﾄ ﾋﾛｼ", "ｲｼｶﾜ ﾅｵﾐ", "ﾓﾘ ﾀｸﾔ", "ｼﾐｽﾞ ｴﾐ"}
	coopShares   = []int64{1_000, 2_000, 1_000, 3_000, 1_000}
	printBills   = []int64{38_500, 42_900, 36_300, 40_700}
	coopBills    = []int64{18_400, 22_750, 15_900, 20_300}
	produceBills = []int64{412_800, 386_500, 398_200, 405_100}
)

// event is one step of the history.
type event struct {
	at time.Time
	do func(ctx context.Context) error
}

// seedBanking gives the organizations their accounts, payees, privileges
// and about three months of history, unless one of them has an account
// already (a later start: the data is reused as it is), and fills in the
// accounts and pending transfers of orgs.
func (sd *seeder) seedBanking(ctx context.Context, orgs []Organization) error {
	seeded := false
	for _, o := range orgs {
		accts, err := sd.bank.OrganizationAccounts(ctx, o.Code)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", o.Name, err)
		}
		seeded = seeded || len(accts) > 0
	}
	if !seeded {
		if err := sd.history(ctx, orgs); err != nil {
			return fmt.Errorf("demo: banking history: %w", err)
		}
	}
	return sd.describe(ctx, orgs)
}

// history opens the accounts and makes the history, event by event, with
// the clock at each event's time.
func (sd *seeder) history(ctx context.Context, orgs []Organization) error {
	for _, o := range orgs {
		for _, u := range o.Users {
			iu, _, err := sd.ident.UserByLoginID(ctx, u.LoginID)
			if err != nil {
				return err
			}
			sd.users[u.LoginID] = iu
		}
	}
	var evs []event
	add := func(at time.Time, do func(ctx context.Context) error) { evs = append(evs, event{at, do}) }

	// The first day: the bank opens the accounts, the masters give the
	// privileges, the clerks register the payees.
	day0 := sd.start
	n := 0
	for _, o := range orgs {
		for _, a := range o.Accounts {
			n++
			ref := fmt.Sprintf("DEMO-OPEN-%04d", n)
			add(sd.at(day0, 8, 30+n), func(ctx context.Context) error {
				acct, err := sd.bank.OpenAccount(ctx, o.Code, banking.AccountType(a.Type), a.Branch, a.Number, a.Holder, demoOperator, ref)
				if err != nil {
					return fmt.Errorf("open %s-%s: %w", a.Branch, a.Number, err)
				}
				sd.acct[accountKey(a.Branch, acct.Type, a.Number)] = acct
				return nil
			})
		}
	}
	opening := []struct {
		key    string
		amount int64
	}{
		{accountKey("001", banking.Ordinary, "2010001"), 2_450_000},
		{accountKey("002", banking.Ordinary, "3020001"), 4_800_000},
		{accountKey("002", banking.Current, "0300001"), 1_200_000},
	}
	for i, op := range opening {
		add(sd.at(day0, 8, 35+i), func(ctx context.Context) error {
			return sd.deposit(ctx, op.key, op.amount, "ｸﾘｺｼ", fmt.Sprintf("DEMO-IN-OPEN-%d", i+1))
		})
	}
	privileges := []struct {
		master, user string
		p            banking.Privileges
	}{
		{"sato0001", "tanaka01", banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 3_000_000}},
		{"sato0001", "suzuki01", banking.Privileges{Inquiry: true, Approval: true}},
		{"kato0001", "ito00001", banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 3_000_000}},
	}
	for i, pr := range privileges {
		add(sd.at(day0, 8, 40+i), func(ctx context.Context) error {
			return sd.bank.SetPrivileges(ctx, sd.users[pr.master], pr.user, pr.p)
		})
	}
	for i, p := range sd.payeeList() {
		add(sd.at(day0, 8, 45+i), func(ctx context.Context) error {
			out, err := sd.bank.RegisterPayee(ctx, sd.users[p.by], banking.Payee{PayeeAccount: p.account, Nickname: p.nickname})
			if err != nil {
				return fmt.Errorf("payee %s: %w", p.key, err)
			}
			sd.payees[p.key] = out
			return nil
		})
	}

	hikariAcct := accountKey("001", banking.Ordinary, "2010001")
	midoriOrd := accountKey("002", banking.Ordinary, "3020001")
	midoriCur := accountKey("002", banking.Current, "0300001")
	transfer := func(d calendar.Date, minute int, from, payeeKey, requester, master string, amount int64, memo string) {
		add(sd.at(d, 10, minute), func(ctx context.Context) error {
			t, err := sd.request(ctx, d, from, payeeKey, requester, amount, memo)
			if err != nil {
				return err
			}
			sd.clock.t = sd.at(d, 10, minute+2)
			_, err = sd.bank.Approve(ctx, sd.users[master], t.ID, t.Version, confirmationOf(orgs, master))
			if err != nil {
				return fmt.Errorf("approve %s %d yen: %w", payeeKey, amount, err)
			}
			return nil
		})
	}

	// Every month: dues in and bills out.
	first := sd.start.Time().AddDate(0, 0, 1-sd.start.Day)
	for k := 0; ; k++ {
		m := first.AddDate(0, k, 0)
		y, mon := m.Year(), m.Month()
		if calendar.DateOf(m).After(sd.today) {
			break
		}
		next := m.AddDate(0, 1, 0).Month()
		for i, name := range unionMembers {
			if d, ok := sd.businessDay(y, mon, 10+i/4); ok {
				add(sd.at(d, 9, 5+i), func(ctx context.Context) error {
					return sd.deposit(ctx, hikariAcct, unionDues[i], "ｸﾐｱｲﾋ "+name, fmt.Sprintf("DEMO-IN-%s-H%02d", d, i))
				})
			}
		}
		if d, ok := sd.businessDay(y, mon, 25); ok {
			add(sd.at(d, 9, 0), func(ctx context.Context) error {
				return sd.deposit(ctx, hikariAcct, 486_000, "ｸﾐｱｲﾋ ｲﾂｶﾂ ﾋｶﾘﾃﾞﾝｷ(ｶ", fmt.Sprintf("DEMO-IN-%s-HC", d))
			})
		}
		if d, ok := sd.businessDay(y, mon, 15); ok {
			transfer(d, 0, hikariAcct, "hikari-print", "tanaka01", "sato0001", printBills[k%4], fmt.Sprintf("機関紙 %d月号", int(mon)))
		}
		if d, ok := sd.businessDay(y, mon, 20); ok {
			transfer(d, 0, hikariAcct, "hikari-coop", "tanaka01", "sato0001", coopBills[k%4], fmt.Sprintf("事務用品・茶菓 %d月分", int(mon)))
		}
		if d, ok := sd.businessDay(y, mon, 27); ok {
			transfer(d, 0, hikariAcct, "hikari-rent", "tanaka01", "sato0001", 165_000, fmt.Sprintf("%d月分 事務所家賃", int(next)))
		}

		for i, name := range coopMembers {
			if d, ok := sd.businessDay(y, mon, 10); ok {
				add(sd.at(d, 9, 30+i), func(ctx context.Context) error {
					return sd.deposit(ctx, midoriOrd, coopShares[i], "ｼﾕﾂｼｷﾝ "+name, fmt.Sprintf("DEMO-IN-%s-M%02d", d, i))
				})
			}
		}
		if d, ok := sd.businessDay(y, mon, 5); ok {
			transfer(d, 5, midoriOrd, "midori-current", "ito00001", "kato0001", 900_000, "当座へ資金移動")
		}
		if d, ok := sd.businessDay(y, mon, 8); ok {
			transfer(d, 10, midoriCur, "midori-farm", "ito00001", "kato0001", produceBills[(2*k)%4], fmt.Sprintf("青果仕入 %d月前半", int(mon)))
		}
		if d, ok := sd.businessDay(y, mon, 22); ok {
			transfer(d, 10, midoriCur, "midori-farm", "ito00001", "kato0001", produceBills[(2*k+1)%4], fmt.Sprintf("青果仕入 %d月後半", int(mon)))
			transfer(d, 15, midoriCur, "midori-haul", "ito00001", "kato0001", 96_800, fmt.Sprintf("配送委託料 %d月分", int(mon)))
		}
		if d, ok := sd.businessDay(y, mon, 25); ok {
			transfer(d, 20, midoriOrd, "midori-rent", "ito00001", "kato0001", 280_000, fmt.Sprintf("%d月分 店舗家賃", int(next)))
		}
	}
	// Every week: the shop's takings (店舗売上) into みどり's account.
	for w, d := 0, sd.start; d.Before(sd.today); w, d = w+1, d.AddDays(7) {
		day, err := sd.c.Calendar.OnOrAfter(d)
		if err != nil || !day.Before(sd.today) {
			continue
		}
		amount := 380_000 + int64((w*37)%90)*1_000
		add(sd.at(day, 9, 45), func(ctx context.Context) error {
			return sd.deposit(ctx, midoriOrd, amount, "ﾃﾝﾎﾟｳﾘｱｹﾞ ｴｷﾏｴﾃﾝ", fmt.Sprintf("DEMO-IN-%s-MS", day))
		})
	}
	// Every business day of the history: the day's transfers to other banks
	// go out in the interbank file.
	for d := sd.start; d.Before(sd.today); d = d.AddDays(1) {
		if sd.c.Calendar.IsBusinessDay(d) {
			add(sd.at(d, 15, 30), func(ctx context.Context) error { return sd.sendInterbank(ctx, d) })
		}
	}

	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	for _, ev := range evs {
		sd.clock.t = ev.at
		if err := ev.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", ev.at.Format(time.DateTime), err)
		}
	}

	// Today: one transfer in each organization awaits the master's approval,
	// dated the next business day.
	sd.clock.t = sd.c.Now()
	nd, err := sd.c.Calendar.NextBusinessDay(sd.today)
	if err != nil {
		return fmt.Errorf("the next business day: %w", err)
	}
	if _, err := sd.request(ctx, nd, hikariAcct, "hikari-print", "tanaka01", 44_000, fmt.Sprintf("機関紙 %d月号 追加印刷", int(sd.today.Month))); err != nil {
		return err
	}
	if _, err := sd.request(ctx, nd, midoriOrd, "midori-haul", "ito00001", 88_000, "臨時配送"); err != nil {
		return err
	}
	return nil
}

// deposit posts an incoming transfer (入金) to an account.
func (sd *seeder) deposit(ctx context.Context, key string, amount int64, description, ref string) error {
	if _, err := sd.bank.Deposit(ctx, sd.acct[key].ID, amount, description, demoOperator, ref); err != nil {
		return fmt.Errorf("deposit %s %d yen: %w", key, amount, err)
	}
	return nil
}

// request has a user request a transfer to a registered payee.
func (sd *seeder) request(ctx context.Context, d calendar.Date, from, payeeKey, requester string, amount int64, memo string) (banking.Transfer, error) {
	t, err := sd.bank.RequestTransfer(ctx, sd.users[requester], banking.TransferRequest{FromAccountID: sd.acct[from].ID,
		PayeeID: sd.payees[payeeKey].ID, Amount: amount, ExecutionDate: d, Memo: memo})
	if err != nil {
		return banking.Transfer{}, fmt.Errorf("request %s %d yen on %s: %w", payeeKey, amount, d, err)
	}
	return t, nil
}

// sendInterbank exports the day's transfers to other banks as the operator
// command does, one file per paying account, and drops the files.
func (sd *seeder) sendInterbank(ctx context.Context, d calendar.Date) error {
	if _, err := sd.bank.ExportInterbank(ctx, banking.InterbankExport{Through: d, Operator: demoOperator}, discardInterbank{day: d}); err != nil {
		return fmt.Errorf("interbank export of %s: %w", d, err)
	}
	return nil
}

// discardInterbank names the files of an interbank export as "kinko operator
// interbank export" would with the day in the name, and writes them
// nowhere.
type discardInterbank struct{ day calendar.Date }

// Place names the files.
func (w discardInterbank) Place(files []banking.InterbankFile) error {
	d := w.day
	for i := range files {
		a := files[i].Account
		files[i].Name = fmt.Sprintf("zengin-%04d%02d%02d-%s-%s-%s.txt", d.Year, d.Month, d.Day, a.BranchCode, a.Type, a.Number)
	}
	return nil
}

// Write writes nothing.
func (discardInterbank) Write(banking.InterbankFile) error { return nil }

// Remove removes nothing.
func (discardInterbank) Remove(banking.InterbankFile) error { return nil }

// confirmationOf returns a demo user's confirmation password.
func confirmationOf(orgs []Organization, loginID string) string {
	for _, o := range orgs {
		for _, u := range o.Users {
			if u.LoginID == loginID {
				return u.ConfirmationPassword
			}
		}
	}
	return ""
}

// describe fills in the organizations' accounts (IDs, balances) and the
// transfer awaiting each master's approval.
func (sd *seeder) describe(ctx context.Context, orgs []Organization) error {
	for i := range orgs {
		o := &orgs[i]
		for j := range o.Accounts {
			a := &o.Accounts[j]
			acct, err := sd.bank.LookupAccount(ctx, a.Branch, banking.AccountType(a.Type), a.Number)
			if errors.Is(err, banking.ErrNotFound) {
				continue // seeded before the demo had accounts of this number
			}
			if err != nil {
				return fmt.Errorf("demo: account %s-%s: %w", a.Branch, a.Number, err)
			}
			a.ID, a.Balance = acct.ID, acct.Balance
		}
		master, _, err := sd.ident.UserByLoginID(ctx, o.Users[0].LoginID)
		if err != nil {
			return err
		}
		page, err := sd.bank.Transfers(ctx, master, banking.TransferQuery{Statuses: []banking.Status{banking.StatusAwaitingApproval}, PerPage: 1})
		if err != nil {
			return fmt.Errorf("demo: %s: %w", o.Name, err)
		}
		if len(page.Transfers) == 0 {
			continue
		}
		t := page.Transfers[0]
		req, _, err := sd.ident.UserByID(ctx, t.RequestedBy)
		if err != nil {
			return err
		}
		o.Pending = &PendingTransfer{ID: t.ID, RequestedBy: req.LoginID, PayeeName: t.Payee.Name, Amount: t.Amount, ExecutionDate: t.ExecutionDate}
	}
	return nil
}
