package report

import (
	_ "embed"
	"html/template"
	"io"
	"sync"
)

// page.html is self-contained: inline CSS, no script, no external
// resource, and a Content-Security-Policy that forbids loading any, so
// the page can be opened offline and cannot call out even if an
// attestation carried hostile text (html/template escapes it anyway).
//
//go:embed page.html
var pageHTML string

// pageTemplate is parsed when first rendered: every run of the command
// line links this package, and parsing the page at start cost about a
// millisecond of each one (eval, disasm...).
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"deref": func(f *float64) float64 { return *f },
	}).Parse(pageHTML))
})

// Render writes the page as HTML.
func Render(w io.Writer, p *Page) error {
	return pageTemplate().Execute(w, struct {
		*Page
		HasKnowledge bool
	}{p, p.hasKnowledge})
}
