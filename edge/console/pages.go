package console

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/signgate/signgate/edge"
)

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // "buckets" or "keys": the current section
	Session *session
	CSRF    string // the token for the page's forms
	Notice  string // what the last change did
	Error   string
	Data    any
}

// render writes page inside the layout with the status code. It renders
// into a buffer first, so that a template error is a 500, not half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, page string, v view) {
	if v.CSRF == "" {
		v.CSRF = v.Session.csrf()
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console template", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err != nil {
		http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"buckets", http.StatusSeeOther)
}

// notices are the messages a redirect after a change can ask for, by
// name: the query never carries text of its own.
var notices = map[string]string{
	"authenticated": "Authenticated access is on: the bucket serves only signed URLs and cookies.",
	"public":        "Authenticated access is off: the bucket serves anyone.",
	"renamed":       "The signing key was renamed.",
	"deleted":       "The signing key was deleted. Every URL signed with it now fails.",
}

func (c *Console) bucketsPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "buckets", view{
		Title: "Buckets", Nav: "buckets", Session: sessionFrom(r),
		Notice: notices[r.URL.Query().Get("done")], Data: c.edge.Buckets(),
	})
}

func (c *Console) setPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := edge.ParsePolicy(r.PostForm.Get("policy"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.edge.SetPolicy(r.Context(), r.PathValue("bucket"), p); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"buckets?done="+string(p)+"#bucket-"+url.PathEscape(r.PathValue("bucket")), http.StatusSeeOther)
}

// keysView is the signing keys page: the list and the create form.
type keysView struct {
	Keys    []edge.Key
	Buckets []edge.BucketInfo
	Form    createForm // the values of a create that failed
}

type createForm struct {
	For, Bucket, StreamID, Name string
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request) {
	c.renderKeys(w, r, http.StatusOK, createForm{For: "bucket"}, "")
}

func (c *Console) renderKeys(w http.ResponseWriter, r *http.Request, code int, f createForm, msg string) {
	keys, err := c.edge.Keys(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, code, "keys", view{
		Title: "Signing keys", Nav: "keys", Session: sessionFrom(r), Error: msg,
		Notice: notices[r.URL.Query().Get("done")],
		Data:   keysView{Keys: keys, Buckets: c.edge.Buckets(), Form: f},
	})
}

// newKeyView is the page that shows a new key's private half, once.
type newKeyView struct {
	Key      edge.Key
	PEM      string
	Download template.URL // a data: URL, so the .pem never comes from the server again
	File     string
}

// createKey makes the key and answers with its private half, on this
// response alone: there is no page to come back to, and Cache-Control:
// no-store keeps it out of the browser's cache.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request) {
	f := createForm{
		For: r.PostForm.Get("for"), Bucket: r.PostForm.Get("bucket"),
		StreamID: strings.TrimSpace(r.PostForm.Get("stream_id")), Name: strings.TrimSpace(r.PostForm.Get("name")),
	}
	bucket, stream := f.Bucket, ""
	if f.For == "stream" {
		bucket, stream = "", f.StreamID
		if stream == "" {
			c.renderKeys(w, r, http.StatusBadRequest, f, "Enter the live stream's id, or choose a bucket.")
			return
		}
	}
	k, priv, err := c.edge.CreateKey(r.Context(), bucket, stream, f.Name)
	if err != nil {
		code, msg := status(err)
		c.log.Info("console: signing key not created", "status", code, "err", err)
		c.renderKeys(w, r, code, f, msg)
		return
	}
	pem := priv.Reveal()
	c.render(w, r, http.StatusOK, "newkey", view{
		Title: "New signing key", Nav: "keys", Session: sessionFrom(r),
		Data: newKeyView{
			Key: k, PEM: pem, File: pemFile(k.ID),
			// The data: URL holds base64 alone, so it is safe as a URL.
			Download: template.URL("data:application/x-pem-file;base64," + base64.StdEncoding.EncodeToString([]byte(pem))),
		},
	})
}

// pemFile names the download: the key id, which the signer needs beside
// it, with only file-name-safe characters.
func pemFile(id string) string {
	return strings.Map(func(c rune) rune {
		if c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return c
		}
		return '_'
	}, id) + ".pem"
}

func (c *Console) keyPage(w http.ResponseWriter, r *http.Request) {
	k, err := c.edge.Key(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "key", view{
		Title: "Signing key", Nav: "keys", Session: sessionFrom(r),
		Notice: notices[r.URL.Query().Get("done")], Data: k,
	})
}

func (c *Console) renameKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := c.edge.RenameKey(r.Context(), id, strings.TrimSpace(r.PostForm.Get("name"))); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"keys/"+url.PathEscape(id)+"?done=renamed", http.StatusSeeOther)
}

func (c *Console) deletePage(w http.ResponseWriter, r *http.Request) {
	k, err := c.edge.Key(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "delete", view{Title: "Delete signing key", Nav: "keys", Session: sessionFrom(r), Data: k})
}

func (c *Console) deleteKey(w http.ResponseWriter, r *http.Request) {
	if err := c.edge.DeleteKey(r.Context(), r.PathValue("id")); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"keys?done=deleted", http.StatusSeeOther)
}
