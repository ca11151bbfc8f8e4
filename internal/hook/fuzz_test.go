package hook

import (
	"bytes"
	"testing"
)

// FuzzReadState: readState never panics, and whatever it accepts has the
// id and bundle the hook relies on.
func FuzzReadState(f *testing.F) {
	for _, seed := range []string{
		`{"ociVersion":"1.0.2","id":"c","status":"running","pid":1,"bundle":"/b"}`,
		`{"ociVersion":"1.0.2","id":"c","status":"running","pid":1,"bundle":"/b","root":"/run/crun","annotations":{"a":"b"}}`,
		`{"id":""}`, `[]`, `null`, `{"pid":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		st, err := readState(bytes.NewReader(in))
		if err != nil {
			return
		}
		if st.ID == "" || st.Bundle == "" {
			t.Fatalf("accepted a state without id or bundle: %+v", st)
		}
	})
}
