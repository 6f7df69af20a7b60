// Package certtest reads certificates back in tests: the text of a PDF as a PDF
// reader library extracts it, as a person searching the document would find it.
package certtest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

// Text returns the PDF's text. The reader library decodes Latin-1 text exactly
// (it drops the high byte of larger code points), which covers the Norwegian names
// the tests use.
func Text(tb testing.TB, doc []byte) string {
	tb.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		tb.Fatalf("read PDF: %v", err)
	}
	plain, err := r.GetPlainText()
	if err != nil {
		tb.Fatalf("extract the PDF's text: %v", err)
	}
	text, err := io.ReadAll(plain)
	if err != nil {
		tb.Fatal(err)
	}
	return string(text)
}

// Pages returns the PDF's number of pages.
func Pages(tb testing.TB, doc []byte) int {
	tb.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		tb.Fatalf("read PDF: %v", err)
	}
	return r.NumPage()
}

// Contains reports whether text holds want, ignoring spaces (layout may split a line
// into runs).
func Contains(text, want string) bool {
	return strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(want, " ", ""))
}
