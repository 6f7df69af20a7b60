package store

import (
	"context"
	"database/sql"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
)

var _ account.Store = (*DB)(nil)

const accountColumns = `id, company_id, email, first_name, last_name, phone, password_hash, role, created_at`

func scanAccount(row scanner) (account.Account, error) {
	var a account.Account
	var company sql.NullInt64
	var created int64
	err := row.Scan(&a.ID, &company, &a.Email, &a.FirstName, &a.LastName, &a.Phone, &a.PasswordHash, &a.Role, &created)
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
