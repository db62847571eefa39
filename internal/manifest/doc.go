// Package manifest rewrites HLS playlists and DASH MPDs so that every URI
// in them is absolute and passes through a caller's Rewriter: the gateway
// signs media URIs and sends child playlists back through itself. Relative
// segment URLs would otherwise lose the query token.
//
// Input is read up to a limit, so memory stays bounded whatever the origin
// sends; a manifest over the limit or one that does not parse is an error
// (ErrTooLarge, ErrMalformed), never passed through half-rewritten. So is
// a DASH construct whose URIs cannot all be made absolute in place
// (ErrUnsupported).
//
// The functions are pure and safe for concurrent use.
package manifest
