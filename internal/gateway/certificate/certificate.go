// Package certificate makes the one-page PDF course certificate that the provider
// gateway uploads to the portal when a student completes a course.
//
// The text is set in the Go fonts (golang.org/x/image/font/gofont), embedded as
// UTF-8 TrueType fonts, so names such as "Øyvind Ås", "Łukasz" or "Ψυχάρης" print as
// written; the PDF's ToUnicode maps let readers and search tools extract them again.
package certificate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Details are what a certificate states. StudentName, CourseName, ProviderName,
// Number and CompletionDate are required; the rest are printed when set.
type Details struct {
	// Number is the certificate's unique number (see NumberFor).
	Number string
	// StudentName is the full name of the student, as the portal gave it.
	StudentName string
	// CourseName is the course's name; CourseID the provider's id for it (externalCourseId).
	CourseName, CourseID string
	// ClassStart and ClassEnd are the class's first and last day, local to the venue.
	ClassStart, ClassEnd time.Time
	// Place is where the class was held (location, and the address if known).
	Place string
	// ProviderName is the course provider that issues the certificate.
	ProviderName string
	// CompletionDate is the day the student completed the course.
	CompletionDate time.Time
}

// NumberFor derives the certificate number of a booking from the provider's booking
// reference, which is unique within a gateway: the same booking always gets the
// same number (so a retried upload is the same document), and two bookings never
// share one. The form is "TPC-" and 16 characters of base32 (80 bits).
func NumberFor(providerBookingReference string) string {
	sum := sha256.Sum256([]byte("tportal-certificate\x00" + providerBookingReference))
	return "TPC-" + base32.StdEncoding.EncodeToString(sum[:10])
}

// Render makes the certificate as a one-page A4 PDF. The bytes depend only on d, so
// rendering the same details twice gives the same file.
func Render(d Details) ([]byte, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("Go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("Go", "B", gobold.TTF)
	// A fixed creation date and sorted resource catalogues keep the output a pure
	// function of the details.
	pdf.SetCatalogSort(true)
	stamp := d.CompletionDate.UTC()
	pdf.SetCatalogSort(true) // fpdf otherwise writes fonts and images in map order
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetTitle("Course certificate "+d.Number, true)
	pdf.SetAuthor(d.ProviderName, true)
	pdf.SetCreator("tportal provider gateway", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()

	const pageW = 297.0
	pdf.SetDrawColor(40, 70, 120)
	pdf.SetLineWidth(1.2)
	pdf.Rect(12, 12, pageW-24, 210-24, "D")

	centred := func(style string, size, lineH float64, text string) {
		pdf.SetFont("Go", style, size)
		pdf.CellFormat(0, lineH, text, "", 1, "C", false, 0, "")
	}
	pdf.SetY(32)
	pdf.SetTextColor(40, 70, 120)
	centred("B", 30, 16, "Course Certificate")
	pdf.SetTextColor(0, 0, 0)
	centred("", 13, 12, "This certifies that")
	centred("B", 26, 16, d.StudentName)
	centred("", 13, 12, "has completed the course")
	centred("B", 20, 13, d.CourseName)
	if d.CourseID != "" {
		centred("", 11, 7, "("+d.CourseID+")")
	}
	pdf.Ln(6)

	rows := [][2]string{}
	if dates := d.classDates(); dates != "" {
		rows = append(rows, [2]string{"Class", dates})
	}
	if d.Place != "" {
		rows = append(rows, [2]string{"Place", d.Place})
	}
	rows = append(rows,
		[2]string{"Completed on", d.CompletionDate.Format("2 January 2006")},
		[2]string{"Course provider", d.ProviderName},
		[2]string{"Certificate number", d.Number},
	)
	for _, row := range rows {
		pdf.SetX(70)
		pdf.SetFont("Go", "", 12)
		pdf.CellFormat(55, 8, row[0]+":", "", 0, "R", false, 0, "")
		pdf.SetFont("Go", "B", 12)
		pdf.CellFormat(100, 8, "  "+row[1], "", 1, "L", false, 0, "")
	}

	pdf.SetY(210 - 30)
	pdf.SetFont("Go", "", 9)
	pdf.SetTextColor(90, 90, 90)
	pdf.CellFormat(0, 5, "Issued by "+d.ProviderName+" through Trainingportal. Certificate "+d.Number+".", "", 1, "C", false, 0, "")

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return buf.Bytes(), nil
}

func (d Details) classDates() string {
	switch {
	case d.ClassStart.IsZero():
		return ""
	case d.ClassEnd.IsZero() || sameDay(d.ClassStart, d.ClassEnd):
		return d.ClassStart.Format("2 January 2006")
	default:
		return d.ClassStart.Format("2 January 2006") + " – " + d.ClassEnd.Format("2 January 2006")
	}
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func (d Details) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"student name", d.StudentName}, {"course name", d.CourseName},
		{"provider name", d.ProviderName}, {"certificate number", d.Number},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if d.CompletionDate.IsZero() {
		missing = append(missing, "completion date")
	}
	if len(missing) > 0 {
		return errors.New("certificate: missing " + strings.Join(missing, ", "))
	}
	return nil
}
