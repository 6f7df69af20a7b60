package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendJSONIsEncodingJSON compares AppendJSON with encoding/json on classes with
// every kind of text the encoder treats specially.
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	tricky := []string{"", "Oslo", "Ålesund", "a\"b", `back\slash`, "<script>&amp;", "tab\there", "nl\n\r",
		"\x00\x1f", "line\u2028sep\u2029", "bad\xffutf8", "emoji 🚢", "\u00e6\u00f8\u00e5", "\x7f"}
	numbers := []string{"12500.50", "0.00", "0", "", "1e3", "-1.5", "007", "1.", ".5", "1.2.3", "abc"}
	nine := "09:00"
	for i, s := range tricky {
		c := Class{ExternalID: s, CourseExternalID: "BST", Cancelled: i%2 == 0, Location: s, AvailableSeats: i * 7,
			EnrollmentDeadline: "2030-09-20", StartDate: "2030-10-01", StartTime: &nine, EndTime: &s,
			TimeZone: "Europe/Oslo", Address: Address{AddressLine1: s, City: s, Country: "NO"},
			Price: Price{Currency: "NOK", Amount: json.Number(numbers[i%len(numbers)])}, SendScheduleInfoToParticipants: i%3 == 0}
		if i%4 == 0 {
			c.StartTime = nil
		}
		want, wantErr := json.Marshal(c)
		got := AppendJSON(nil, "", &c)
		if wantErr != nil {
			if json.Valid(got) {
				continue // encoding/json refuses the number; AppendJSON writes null instead
			}
			t.Errorf("class %d: invalid JSON %s", i, got)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("class %d:\n got %s\nwant %s", i, got, want)
		}
		type withIDs struct {
			ID       int64 `json:"id"`
			CourseID int64 `json:"courseId"`
			Class
		}
		want, _ = json.Marshal(withIDs{ID: 7, CourseID: 3, Class: c})
		if got := AppendJSON(nil, `"id":7,"courseId":3,`, &c); !bytes.Equal(got, want) {
			t.Errorf("class %d with ids:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendJSONArrayIsEncoder compares a list with json.Encoder's, empty included.
func TestAppendJSONArrayIsEncoder(t *testing.T) {
	nine := "09:00"
	for _, n := range []int{0, 1, 3} {
		list := make([]Class, n)
		for i := range list {
			list[i] = Class{ExternalID: "W" + string(rune('0'+i)), StartTime: &nine, Price: Price{Currency: "NOK", Amount: "1.50"}}
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(list); err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONArray(nil, len(list), func(i int) (string, Class) { return "", list[i] }); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%d classes:\n got %s\nwant %s", n, got, want.Bytes())
		}
	}
}
