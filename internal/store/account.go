package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
)

var _ account.Store = (*DB)(nil)

const accountColumns = `id, company_id, email, first_name, last_name, phone, password_hash, role, created_at, session_epoch`

func scanAccount(row scanner) (account.Account, error) {
	var a account.Account
	var company sql.NullInt64
	var created int64
	err := row.Scan(&a.ID, &company, &a.Email, &a.FirstName, &a.LastName, &a.Phone, &a.PasswordHash, &a.Role, &created, &a.SessionEpoch)
	a.CompanyID, a.CreatedAt = company.Int64, fromMillis(created)
	return a, err
}

func scanCompany(row scanner) (account.Company, error) {
	var c account.Company
	var created int64
	err := row.Scan(&c.ID, &c.Name, &created)
	c.CreatedAt = fromMillis(created)
	return c, err
}

// CreateCompanyAccount implements account.Store.
func (s *DB) CreateCompanyAccount(ctx context.Context, c *account.Company, a *account.Account) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := s.in(tx).QueryRowContext(ctx, `INSERT INTO companies (name, name_key, created_at) VALUES ($1, $2, $3) RETURNING id`,
			c.Name, account.NameKey(c.Name), millis(c.CreatedAt)).Scan(&c.ID)
		if err := mapErr(err, "company"); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, "company: %q is already signed up; ask one of its enrollers to add you", c.Name)
			}
			return err
		}
		a.CompanyID = c.ID
		return s.insertAccount(ctx, tx, a)
	})
}

// CreateAccount implements account.Store.
func (s *DB) CreateAccount(ctx context.Context, a *account.Account) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.insertAccount(ctx, tx, a) })
}

func (s *DB) insertAccount(ctx context.Context, tx *sql.Tx, a *account.Account) error {
	err := s.in(tx).QueryRowContext(ctx, `INSERT INTO accounts (company_id, email, first_name, last_name, phone, password_hash, role, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		sql.NullInt64{Int64: a.CompanyID, Valid: a.CompanyID != 0}, a.Email, a.FirstName, a.LastName, a.Phone,
		a.PasswordHash, string(a.Role), millis(a.CreatedAt)).Scan(&a.ID)
	if err := mapErr(err, "account"); err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.E(errs.Conflict, "email: %s already has an account; sign in instead", a.Email)
		}
		return err
	}
	return nil
}

// AccountByEmail implements account.Store.
func (s *DB) AccountByEmail(ctx context.Context, email string) (account.Account, error) {
	a, err := scanAccount(s.q().QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE email = $1`, email))
	return a, mapErr(err, "account")
}

// AccountByID implements account.Store.
func (s *DB) AccountByID(ctx context.Context, id int64) (account.Account, error) {
	a, err := scanAccount(s.q().QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	return a, mapErr(err, "account")
}

// CompanyByID implements account.Store.
func (s *DB) CompanyByID(ctx context.Context, id int64) (account.Company, error) {
	c, err := scanCompany(s.q().QueryRowContext(ctx, `SELECT id, name, created_at FROM companies WHERE id = $1`, id))
	if errs.Is(mapErr(err, "company"), errs.NotFound) {
		return c, errs.E(errs.NotFound, "no company with id %d", id)
	}
	return c, mapErr(err, "company")
}

// Companies lists every company by name, for the command line.
func (s *DB) Companies(ctx context.Context) ([]account.Company, error) {
	return queryAll(ctx, s, "list companies", `SELECT id, name, created_at FROM companies ORDER BY name_key`, nil, scanCompany)
}

// CompanyAccounts implements account.Store.
func (s *DB) CompanyAccounts(ctx context.Context, companyID int64) ([]account.Account, error) {
	return queryAll(ctx, s, "list accounts", `SELECT `+accountColumns+` FROM accounts WHERE company_id = $1
		ORDER BY first_name, last_name, id`, []any{companyID}, scanAccount)
}

// CreateInvitation implements account.Store.
func (s *DB) CreateInvitation(ctx context.Context, a *account.Account, t *account.Link) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if a.ID == 0 {
			if err := s.insertAccount(ctx, tx, a); err != nil {
				return err
			}
		}
		t.AccountID = a.ID
		return s.insertLink(ctx, tx, t)
	})
}

// CreateLink implements account.Store.
func (s *DB) CreateLink(ctx context.Context, t *account.Link) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.insertLink(ctx, tx, t) })
}

func (s *DB) insertLink(ctx context.Context, tx *sql.Tx, t *account.Link) error {
	err := s.in(tx).QueryRowContext(ctx, `INSERT INTO account_tokens (account_id, purpose, token_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.AccountID, string(t.Purpose), t.Hash, sql.NullInt64{Int64: t.CreatedBy, Valid: t.CreatedBy != 0},
		millis(t.CreatedAt), millis(t.ExpiresAt)).Scan(&t.ID)
	return mapErr(err, "account link")
}

// LinkByHash implements account.Store.
func (s *DB) LinkByHash(ctx context.Context, hash string) (account.Link, error) {
	var t account.Link
	var by, used sql.NullInt64
	var created, expires int64
	err := s.q().QueryRowContext(ctx, `SELECT id, account_id, purpose, token_hash, created_by, created_at, expires_at, used_at
		FROM account_tokens WHERE token_hash = $1`, hash).Scan(&t.ID, &t.AccountID, &t.Purpose, &t.Hash, &by, &created, &expires, &used)
	t.CreatedBy, t.CreatedAt, t.ExpiresAt, t.UsedAt = by.Int64, fromMillis(created), fromMillis(expires), timePtr(used)
	return t, mapErr(err, "account link")
}

// UseLink implements account.Store. The token is claimed first (used_at IS NULL in
// the UPDATE), so of two requests racing with one link only one sets a password.
func (s *DB) UseLink(ctx context.Context, id, accountID int64, passwordHash string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		q := s.in(tx)
		res, err := q.ExecContext(ctx, `UPDATE account_tokens SET used_at = $1 WHERE id = $2 AND account_id = $3 AND used_at IS NULL`,
			millis(now), id, accountID)
		if err != nil {
			return mapErr(err, "account link")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errs.E(errs.NotFound, "account link %d is used already", id)
		}
		if _, err := q.ExecContext(ctx, `UPDATE accounts SET password_hash = $1, session_epoch = session_epoch + 1 WHERE id = $2`,
			passwordHash, accountID); err != nil {
			return mapErr(err, "account")
		}
		_, err = q.ExecContext(ctx, `UPDATE account_tokens SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL`, millis(now), accountID)
		return mapErr(err, "account link")
	})
}
