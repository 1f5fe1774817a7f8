#!/usr/bin/python3
# kdcproxy-serve.py LISTEN CERT KEY: serves python3-kdcproxy, the reference
# MS-KKDCP proxy (a WSGI application, kdcproxy.Application), over HTTPS
# with the standard library's wsgiref server, at any path (clients use
# /KdcProxy). LISTEN is HOST:PORT; port 0 picks a free one. Its realm map
# comes from the INI file KDCPROXY_CONFIG names ("[global] use_dns = false",
# then "[REALM] kerberos = kerberos://HOST:PORT").
#
# On stderr: wsgiref's access log ("POST /KdcProxy HTTP/1.1" 200 ...) and,
# before it, what kdcproxy's own codec makes of each request ("kdcproxy:
# KRBHTTP.TEST AS-REQ (183 bytes)"), so that tests can tell the AS and TGS
# exchanges apart. On stdout, once listening: "kdcproxy-serve: serving on
# HOST:PORT". (Not named kdcproxy.py: that would shadow the module.)
import io
import socketserver
import ssl
import sys
from wsgiref.simple_server import WSGIServer, make_server

import kdcproxy
from kdcproxy import codec

listen, certfile, keyfile = sys.argv[1:4]
app = kdcproxy.Application()


def logged(environ, start_response):
    try:
        n = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        n = -1
    if 0 <= n <= kdcproxy.Application.MAX_LENGTH:
        body = environ["wsgi.input"].read(n)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            what = str(codec.decode(body))
        except Exception as e:
            what = "undecodable request (%s)" % type(e).__name__
        print("kdcproxy: %s" % what, file=sys.stderr, flush=True)
    return app(environ, start_response)


class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


host, port = listen.rsplit(":", 1)
srv = make_server(host.strip("[]"), int(port), logged, server_class=Server)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(certfile, keyfile)
srv.socket = tls.wrap_socket(srv.socket, server_side=True)
print("kdcproxy-serve: serving on %s:%d" % (host, srv.server_port), flush=True)
srv.serve_forever()
