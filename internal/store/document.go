package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tportal/tportal/internal/booking"
)

// AddDocument implements booking.DocumentStore. The content goes into blobs once per
// SHA-256, so a certificate uploaded for several bookings is stored once; a repeated
// upload for the same booking returns the document it made.
func (s *DB) AddDocument(ctx context.Context, d *booking.Document, content []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// The booking's row is locked first (a no-op update), so that two copies of one
		// upload arriving together on PostgreSQL cannot both miss the other; SQLite's
		// write transactions are serial anyway.
		if _, err := s.in(tx).ExecContext(ctx, `UPDATE bookings SET id = id WHERE id = $1`, d.BookingID); err != nil {
			return mapErr(err, "lock booking")
		}
		existing, err := scanDocument(s.in(tx).QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE booking_id = $1 AND document_type = $2 AND file_name = $3 AND sha256 = $4 ORDER BY id LIMIT 1`,
			d.BookingID, d.Type, d.FileName, d.SHA256))
		switch {
		case err == nil:
			*d = existing
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return mapErr(err, "find document")
		}
		if _, err := s.in(tx).ExecContext(ctx, `INSERT INTO blobs (sha256, content) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`,
			d.SHA256, content); err != nil {
			return mapErr(err, "store document content")
		}
		err = s.in(tx).QueryRowContext(ctx, `INSERT INTO documents (booking_id, document_type, file_name, content_type, size, sha256, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			d.BookingID, d.Type, d.FileName, d.ContentType, d.Size, d.SHA256, millis(d.UploadedAt)).Scan(&d.ID)
		return mapErr(err, "document")
	})
}

const documentColumns = `id, booking_id, document_type, file_name, content_type, size, sha256, uploaded_at`

func scanDocument(row scanner, extra ...any) (booking.Document, error) {
	var d booking.Document
	var at int64
	err := row.Scan(append([]any{&d.ID, &d.BookingID, &d.Type, &d.FileName, &d.ContentType, &d.Size, &d.SHA256, &at}, extra...)...)
	d.UploadedAt = fromMillis(at)
	return d, err
}

// Documents implements booking.DocumentStore.
func (s *DB) Documents(ctx context.Context, bookingID int64) ([]booking.Document, error) {
	docs, err := queryAll(ctx, s, "list documents", `SELECT `+documentColumns+` FROM documents WHERE booking_id = $1 ORDER BY id`,
		[]any{bookingID}, func(row scanner) (booking.Document, error) { return scanDocument(row) })
	if docs == nil && err == nil {
		docs = []booking.Document{}
	}
	return docs, err
}

// Document implements booking.DocumentStore.
func (s *DB) Document(ctx context.Context, bookingID, documentID int64) (booking.Document, error) {
	var content []byte
	d, err := scanDocument(s.q().QueryRowContext(ctx, `SELECT d.id, d.booking_id, d.document_type, d.file_name, d.content_type,
		d.size, d.sha256, d.uploaded_at, b.content FROM documents d JOIN blobs b ON b.sha256 = d.sha256
		WHERE d.booking_id = $1 AND d.id = $2`, bookingID, documentID), &content)
	d.Content = content
	return d, mapErr(err, "document")
}
