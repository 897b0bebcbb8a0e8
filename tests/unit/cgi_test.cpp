// What nginx, Apache mod_fcgid and lighttpd send over FastCGI, turned into
// Requests, and Responses turned into CGI replies.

#include "serve/cgi.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera {
namespace {

// Builds the NAME=value array libfcgi hands over.
class Params {
 public:
  Params(std::initializer_list<std::string> entries) : entries_(entries) {
    for (const auto& e : entries_) pointers_.push_back(e.c_str());
    pointers_.push_back(nullptr);
  }
  const char* const* envp() const { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<const char*> pointers_;
};

Request translate(std::initializer_list<std::string> entries) {
  const Params params(entries);
  return request_from_cgi(params.envp());
}

TEST(CgiRequest, NginxDocumentedConfigKeepsTheClientsEncoding) {
  // docs/deploy.md: REQUEST_URI is raw, SCRIPT_NAME ($fastcgi_script_name) decoded.
  const Request r = translate({"REQUEST_METHOD=GET", "REQUEST_URI=/iiif/3/maps%2Fatlas/info.json",
                               "SCRIPT_NAME=/iiif/3/maps/atlas/info.json", "QUERY_STRING=",
                               "HTTP_HOST=images.example.org", "HTTP_ACCEPT=application/ld+json"});
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/iiif/3/maps%2Fatlas/info.json");
  EXPECT_EQ(r.query, "");
  EXPECT_EQ(r.header("host"), "images.example.org");
  EXPECT_EQ(r.header("accept"), "application/ld+json");
}

TEST(CgiRequest, QueryComesFromQueryString) {
  const Request r = translate({"REQUEST_METHOD=HEAD", "REQUEST_URI=/iiif/3/x/info.json?a=1",
                               "SCRIPT_NAME=/iiif/3/x/info.json", "QUERY_STRING=a=1"});
  EXPECT_EQ(r.method, "HEAD");
  EXPECT_EQ(r.path, "/iiif/3/x/info.json");
  EXPECT_EQ(r.query, "a=1");
}

TEST(CgiRequest, IipsrvQueriesGoToTheIipScriptWhereverItIsMounted) {
  // Debian's Apache: ScriptAlias /iipsrv/ /usr/lib/iipimage-server/
  Request r = translate({"REQUEST_METHOD=GET", "SCRIPT_NAME=/iipsrv/iipsrv.fcgi",
                         "REQUEST_URI=/iipsrv/iipsrv.fcgi?FIF=/images/x.tif&JTL=1,0",
                         "QUERY_STRING=FIF=/images/x.tif&JTL=1,0"});
  EXPECT_EQ(r.path, kIipsrvScriptPath);
  EXPECT_EQ(r.query, "FIF=/images/x.tif&JTL=1,0");
  // iipsrv's own nginx example: PATH_INFO $fastcgi_script_name, no SCRIPT_NAME.
  r = translate({"PATH_INFO=/fcgi-bin/iipsrv.fcgi", "REQUEST_URI=/fcgi-bin/iipsrv.fcgi?fif=a.tif",
                 "QUERY_STRING=fif=a.tif&obj=IIP,1.0"});
  EXPECT_EQ(r.path, kIipsrvScriptPath);
  // The other protocols iipsrv takes in a query string, in any case.
  for (const char* query : {"DeepZoom=/x.tif.dzi", "zoomify=/x.tif/ImageProperties.xml",
                            "IIIF=x.tif/info.json", "OBJ=IIP,1.0", "WID=200&Fif=x.tif&CVT=jpeg"}) {
    r = translate({"SCRIPT_NAME=/cgi-bin/iip", std::string("QUERY_STRING=") + query});
    EXPECT_EQ(r.path, kIipsrvScriptPath) << query;
    EXPECT_EQ(r.query, query);
  }
  // Tessera's own IIP route stays, and other queries do not move a path.
  r = translate({"REQUEST_URI=/iip?FIF=x.tif&JTL=0,0", "QUERY_STRING=FIF=x.tif&JTL=0,0"});
  EXPECT_EQ(r.path, "/iip");
  r = translate({"REQUEST_URI=/iiif/3/x/info.json?fifty=1", "QUERY_STRING=fifty=1"});
  EXPECT_EQ(r.path, "/iiif/3/x/info.json");
}

TEST(CgiRequest, ARewriteIsFollowed) {
  // nginx: rewrite ^/iiif/(.*)$ /fcgi-bin/iipsrv.fcgi?IIIF=$1 last;
  Request r = translate({"REQUEST_URI=/iiif/x.tif/info.json", "SCRIPT_NAME=/fcgi-bin/iipsrv.fcgi",
                         "QUERY_STRING=IIIF=x.tif/info.json"});
  EXPECT_EQ(r.path, kIipsrvScriptPath);
  EXPECT_EQ(r.query, "IIIF=x.tif/info.json");
  // rewrite ^/images/(.*)$ /iiif/3/$1 last; the decoded target is re-encoded
  // where it must be, and commas and colons stay as clients send them.
  r = translate({"REQUEST_URI=/images/a%20b/pct:0,0,50,50/max/0/default.jpg",
                 "SCRIPT_NAME=/iiif/3/a b/pct:0,0,50,50/max/0/default.jpg", "QUERY_STRING="});
  EXPECT_EQ(r.path, "/iiif/3/a%20b/pct:0,0,50,50/max/0/default.jpg");
  // nginx merges slashes in $fastcgi_script_name: that is where it routed.
  r = translate({"REQUEST_URI=//iiif/3/x/info.json", "SCRIPT_NAME=/iiif/3/x/info.json"});
  EXPECT_EQ(r.path, "/iiif/3/x/info.json");
  // '%', '?' and '#' decoded by the server are escaped again.
  r = translate({"SCRIPT_NAME=/iiif/3/100%?#/info.json"});
  EXPECT_EQ(r.path, "/iiif/3/100%25%3F%23/info.json");
}

TEST(CgiRequest, ApacheScriptAliasAndPathInfo) {
  // ScriptAlias /iiif /usr/local/lib/iipimage-server/iipsrv.fcgi
  Request r = translate({"SCRIPT_NAME=/iiif", "PATH_INFO=/3/maps/atlas/info.json",
                         "REQUEST_URI=/iiif/3/maps%2Fatlas/info.json"});
  EXPECT_EQ(r.path, "/iiif/3/maps%2Fatlas/info.json");
  // AllowEncodedSlashes NoDecode leaves %2F in PATH_INFO.
  r = translate({"SCRIPT_NAME=/iiif", "PATH_INFO=/3/maps%2Fatlas/info.json",
                 "REQUEST_URI=/iiif/3/maps%2Fatlas/info.json"});
  EXPECT_EQ(r.path, "/iiif/3/maps%2Fatlas/info.json");
}

TEST(CgiRequest, LighttpdSendsAnEmptyPathInfo) {
  const Request r = translate({"SCRIPT_NAME=/fcgi-bin/iipsrv.fcgi",
                               "PATH_INFO=", "REQUEST_URI=/fcgi-bin/iipsrv.fcgi?FIF=x.tif&JTL=0,0",
                               "QUERY_STRING=FIF=x.tif&JTL=0,0", "REQUEST_METHOD=GET"});
  EXPECT_EQ(r.path, kIipsrvScriptPath);
}

TEST(CgiRequest, MissingParametersHaveSafeDefaults) {
  Request r = translate({});
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.query, "");
  EXPECT_TRUE(r.headers.empty());
  r = translate({"REQUEST_URI=*"});  // not a path
  EXPECT_EQ(r.path, "/");
  r = translate({"REQUEST_URI=/a%zz/b"});  // malformed escape: passed on for the router to refuse
  EXPECT_EQ(r.path, "/a%zz/b");
  EXPECT_EQ(request_from_cgi(nullptr).path, "/");
}

TEST(CgiRequest, HeadersFromHttpParameters) {
  const Request r = translate({"HTTP_ACCEPT_LANGUAGE=fr", "HTTP_IF_MODIFIED_SINCE=Tue, 1 Jan",
                               "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=", "SERVER_NAME=x",
                               "HTTP_=nothing", "NOEQUALS"});
  EXPECT_EQ(r.header("accept-language"), "fr");
  EXPECT_EQ(r.header("if-modified-since"), "Tue, 1 Jan");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.header("server-name"), "");
  EXPECT_EQ(r.headers.size(), 3u);
}

TEST(CgiRequest, HttpsBecomesForwardedProtoUnlessTheClientSaidSo) {
  EXPECT_EQ(translate({"HTTPS=on"}).header("x-forwarded-proto"), "https");
  EXPECT_EQ(translate({"REQUEST_SCHEME=https"}).header("x-forwarded-proto"), "https");
  EXPECT_EQ(translate({"HTTPS=off", "REQUEST_SCHEME=http"}).header("x-forwarded-proto"), "");
  // A TLS proxy in front of the web server said http... keep its word.
  EXPECT_EQ(translate({"HTTPS=on", "HTTP_X_FORWARDED_PROTO=http"}).header("x-forwarded-proto"),
            "http");
}

TEST(CgiReply, HeadCarriesStatusHeadersAndLength) {
  Response response;
  response.status = 404;
  response.body = "no image named 'x'\n";
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.set_header("Content-Length", "999");  // ours is the true one
  EXPECT_EQ(cgi_reply_head(response),
            "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 19\r\n\r\n");
}

TEST(CgiReply, HeadersThatWouldSplitTheReplyAreDropped) {
  Response response;
  response.body = "x";
  response.set_header("X-Good", "yes");
  response.set_header("X-Bad", "a\r\nSet-Cookie: evil=1");
  response.set_header("X-Bad2\n", "b");
  const std::string head = cgi_reply_head(response);
  EXPECT_EQ(head, "Status: 200 OK\r\nX-Good: yes\r\nContent-Length: 1\r\n\r\n");
}

TEST(CgiReply, NoLengthOrBodyWhereHttpHasNone) {
  Response not_modified;
  not_modified.status = 304;
  EXPECT_EQ(cgi_reply_head(not_modified), "Status: 304 Not Modified\r\n\r\n");
  EXPECT_FALSE(cgi_reply_has_body("GET", 304));
  EXPECT_FALSE(cgi_reply_has_body("GET", 204));
  EXPECT_FALSE(cgi_reply_has_body("HEAD", 200));
  EXPECT_TRUE(cgi_reply_has_body("GET", 200));
  EXPECT_TRUE(cgi_reply_has_body("GET", 400));
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

}  // namespace
}  // namespace tessera
