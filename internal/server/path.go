package server

import (
	"net/http"
	"path"
	"strings"
)

// withCleanPath returns r for its clean path when its path is unclean ("//", "/./",
// "/../"), so that it is served as the clean path itself: http.ServeMux would answer
// it with a redirect, which many clients do not follow on POST (SPEC §2: paths are
// cleaned without redirects).
func withCleanPath(r *http.Request) *http.Request {
	if r.Method == http.MethodConnect {
		return r
	}
	clean := cleanURLPath(r.URL.Path)
	rawClean := r.URL.RawPath == "" || cleanURLPath(r.URL.RawPath) == r.URL.RawPath
	if clean == r.URL.Path && rawClean {
		return r
	}
	u := *r.URL
	u.Path = clean
	if u.RawPath != "" {
		u.RawPath = cleanURLPath(u.RawPath)
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = &u
	return r2
}

// cleanURLPath is path.Clean for a URL path: rooted, with a trailing slash kept, as
// http.ServeMux cleans before it matches.
func cleanURLPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}
