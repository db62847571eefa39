// The demo page's players: one <video> per variant, each played through
// the gateway. Progressive needs nothing; HLS plays with hls.js and DASH
// with dash.js (both served from /players/, embedded in signgate).
//
// Playback that outlives a token:
//   - manifest mode: the URLs in a rewritten manifest carry a token. Just
//     before a request, a URL whose token has under renewMargin left gets
//     a fresh token from /.signgate/sign for the same path (the gateway's
//     grant decides its claim), one request per directory and renewal.
//   - cookie mode: the page asks the gateway for the master playlist
//     again (HEAD, redirect not followed) every renewEvery; its redirect
//     sets a fresh Qencode-Auth-Token cookie for the directory.
(() => {
  'use strict';
  const cfg = JSON.parse(document.getElementById('demo-config').textContent);
  const renewMargin = 3000; // ms
  // Players keep bufferAhead seconds ahead (hls.js and dash.js would take
  // 30 s): over a short sample and a short TTL, later segments are still
  // fetched later, as a film's are, and need renewed tokens.
  const bufferAhead = 10;

  // claims returns {uri, exp (ms)} of a JWT, or null.
  function claims(tok) {
    try {
      const p = JSON.parse(atob(tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return { uri: '/' + String(p.uri || '').replace(/^\//, ''), exp: p.exp ? p.exp * 1000 : Infinity };
    } catch (e) {
      return null;
    }
  }

  // covers reports whether claim uri grants path, at a "/" boundary.
  function covers(uri, path) {
    return uri === '/' || path === uri || path.startsWith(uri.replace(/\/$/, '') + '/');
  }

  const fresh = new Map();   // uri claim -> {tok, exp}
  const pending = new Map(); // uri claim -> Promise<{tok, exp}>
  let renewals = 0;

  async function signFor(path, uri) {
    if (!pending.has(uri)) {
      pending.set(uri, (async () => {
        try {
          const r = await fetch('/.signgate/sign?path=' + encodeURIComponent(path), { credentials: 'same-origin' });
          if (!r.ok) throw new Error('sign: ' + r.status);
          const tok = new URL((await r.json()).url).searchParams.get('auth');
          const c = claims(tok);
          const t = { tok, exp: c.exp };
          fresh.set(c.uri, t);
          renewals++;
          return t;
        } finally {
          pending.delete(uri);
        }
      })());
    }
    return pending.get(uri);
  }

  // renewed returns url with a token that has at least renewMargin left:
  // its own, else a fresher one already held for a claim that covers its
  // path, else a new one from the gateway. The bucket path on the edge is
  // the demo's gateway path (its routes do not strip their prefixes).
  async function renewed(url) {
    const u = new URL(url, location.href);
    const tok = u.searchParams.get('auth');
    const c = tok && claims(tok);
    if (!c || c.exp - Date.now() > renewMargin) return url;
    let t = null;
    for (const [uri, f] of fresh) {
      if (covers(uri, u.pathname) && f.exp - Date.now() > renewMargin) t = f;
    }
    if (!t) {
      try {
        t = await signFor(u.pathname, c.uri);
      } catch (e) {
        return url; // the edge will say why
      }
    }
    u.searchParams.set('auth', t.tok);
    return u.href;
  }

  // renewCookie keeps the streaming cookie of link fresh while the page
  // is open.
  function renewCookie(link) {
    setInterval(() => {
      fetch(link, { method: 'HEAD', redirect: 'manual', credentials: 'same-origin' }).catch(() => {});
    }, cfg.renewEvery);
  }

  function status(v, text) {
    document.getElementById('state-' + v.dataset.variant).textContent = text;
  }

  function play(v) {
    const link = v.dataset.src, cookie = v.dataset.mode === 'cookie';
    v.muted = true;
    if (v.dataset.kind === 'progressive') {
      v.src = link;
    } else if (v.dataset.kind === 'hls') {
      if (!window.Hls || !Hls.isSupported()) return status(v, 'hls.js is not supported in this browser');
      const hls = new Hls({
        maxBufferLength: bufferAhead, maxMaxBufferLength: bufferAhead,
        xhrSetup: cookie
          ? (xhr) => { xhr.withCredentials = true; }
          : async (xhr, url) => { xhr.open('GET', await renewed(url), true); },
      });
      hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) status(v, 'hls.js: ' + d.details); });
      hls.loadSource(link);
      hls.attachMedia(v);
    } else {
      const p = dashjs.MediaPlayer().create();
      p.updateSettings({ streaming: { buffer: {
        bufferTimeAtTopQuality: bufferAhead, bufferTimeAtTopQualityLongForm: bufferAhead, stableBufferTime: bufferAhead,
      } } });
      p.addRequestInterceptor(async (req) => {
        if (cookie) req.credentials = 'include';
        else req.url = await renewed(req.url);
        return req;
      });
      p.on(dashjs.MediaPlayer.events.ERROR, (e) => status(v, 'dash.js: ' + JSON.stringify(e.error)));
      p.initialize(v, link, true);
    }
    if (cookie) renewCookie(link);
    v.play().catch(() => {});
  }

  // ffplayCommand returns a command that plays link with a short-lived
  // signed URL from /.signgate/sign, so no session cookie is needed. A
  // playlist's relative URLs lose the query, so for HLS and DASH the
  // directory token of that URL rides in the Qencode-Auth-Token cookie
  // instead, with
  // ffmpeg's -cookies: a path and no domain (Debian's ffmpeg 5.1 skips an
  // entry that names a domain; and with -headers "Cookie: ..." it would
  // drop the cookies that redirects set).
  async function ffplayCommand(v) {
    const r = await fetch('/.signgate/sign?path=' + encodeURIComponent(v.dataset.src), { credentials: 'same-origin' });
    if (!r.ok) throw new Error('the gateway answered ' + r.status);
    const signed = (await r.json()).url;
    const q = (s) => "'" + s.replace(/'/g, "'\\''") + "'";
    if (v.dataset.kind === 'progressive') return 'ffplay ' + q(signed);
    const tok = new URL(signed).searchParams.get('auth'), c = claims(tok);
    const dir = c.uri.replace(/\/$/, '') || '/';
    const plain = new URL(signed);
    plain.search = '';
    return 'ffplay -cookies ' + q(`Qencode-Auth-Token=${tok}; path=${dir}`) + ' ' + q(plain.href);
  }

  for (const v of document.querySelectorAll('video[data-variant]')) {
    play(v);
    const name = v.dataset.variant;
    v.addEventListener('timeupdate', () => status(v, 'playing, ' + v.currentTime.toFixed(1) + ' s'));
    v.addEventListener('waiting', () => { if (v.currentTime > 0.5 && !v.ended) v.dataset.stalls = String(Number(v.dataset.stalls || 0) + 1); });
    v.addEventListener('ended', () => status(v, 'ended after ' + v.currentTime.toFixed(1) + ' s'));
    document.getElementById('copy-' + name).addEventListener('click', async () => {
      const out = document.getElementById('cmd-' + name);
      try {
        out.textContent = await ffplayCommand(v);
        if (navigator.clipboard) await navigator.clipboard.writeText(out.textContent).catch(() => {});
      } catch (e) {
        out.textContent = String(e);
      }
    });
  }
  window.signgateDemo = { renewals: () => renewals };
})();
