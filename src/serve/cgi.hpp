#pragma once
// CGI/1.1 (RFC 3875) as FastCGI carries it: the parameters a web server sends
// with each request, turned into a Request, and a Response turned into a CGI
// reply (a Status: line, header lines, a blank line, the body). Pure
// functions, so that what nginx, Apache mod_fcgid and lighttpd send can be
// tested without a socket; fcgi_front.cpp does the I/O.
//
// The request path, still percent-encoded as Request::path wants it:
//   - REQUEST_URI's path (the client's bytes, so "a%2Fb" stays one segment)
//     when it agrees with SCRIPT_NAME + PATH_INFO, which web servers send
//     decoded (nginx: SCRIPT_NAME = $fastcgi_script_name; mod_fcgid and
//     lighttpd: the script's URL path, and PATH_INFO the rest) or when those
//     are absent;
//   - otherwise the web server rewrote the URL (nginx `rewrite`, Apache
//     mod_rewrite): SCRIPT_NAME + PATH_INFO, re-encoded, since that is where
//     the server sent the request;
//   - "/" when none is given.
// iipsrv answers a query string whatever path it is mounted at (Debian's
// Apache has /iipsrv/iipsrv.fcgi, most guides /fcgi-bin/iipsrv.fcgi), so a
// request whose query string holds one of iipsrv's protocol commands (FIF,
// OBJ, IIIF, DeepZoom, Zoomify, any case) at any path but /iip gets the path
// kIipsrvScriptPath, where the service answers IIP.
//
// The query is QUERY_STRING (after any rewrite). Headers are the HTTP_*
// parameters (HTTP_ACCEPT_LANGUAGE -> accept-language) plus CONTENT_TYPE and
// CONTENT_LENGTH. When the client sent no X-Forwarded-Proto, HTTPS=on (or
// REQUEST_SCHEME=https) becomes "x-forwarded-proto: https", so that ids built
// from the request say https behind a TLS-terminating web server.

#include <string>
#include <string_view>

#include "serve/request.hpp"

namespace tessera {

inline constexpr std::string_view kIipsrvScriptPath = "/fcgi-bin/iipsrv.fcgi";

// `envp`: the parameters as libfcgi hands them over, "NAME=value" strings in
// an array ended by nullptr.
Request request_from_cgi(const char* const* envp);

// The reply up to and including the blank line: "Status: 404 Not Found",
// the response's headers, and Content-Length (the length a GET sends, also
// for HEAD; none for 1xx, 204 and 304). A header whose name or value holds
// CR, LF or NUL is left out rather than let it split the reply.
std::string cgi_reply_head(const Response& response);

// Whether the body follows the head: not for HEAD, 1xx, 204 or 304.
bool cgi_reply_has_body(std::string_view method, int status);

// "OK", "Not Found", ...; "Unknown" for a status without a registered phrase.
std::string_view reason_phrase(int status);

}  // namespace tessera
