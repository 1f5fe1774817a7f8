// Command winrs runs a command on a WinRM host, as Windows' winrs does,
// with Kerberos: stdin is forwarded, stdout and stderr are streamed, and
// the exit status is the remote command's.
//
// Usage:
//
//	winrs -r URL [--cacert PEM] [--encryption auto|always|never] [--proxy URL]
//	      [--workdir DIR] [--env K=V]...
//	      [--operation-timeout DUR] [--codepage N] [--no-profile] [--no-stdin] [-v]
//	      [--mutual required|optional|disabled] [--no-sanitize]
//	      [--preemptive[=always|after-challenge|never]] [--auth-scheme negotiate|kerberos]
//	      [--hostname-override H] [--service S] [--principal P]
//	      [--password-file F] [--keytab F] [--raw-krb5] [--kdc-timeout DUR]
//	      [--delegate[=policy]] [--no-cbt] [--no-write-back]
//	      [--] COMMAND [ARGS...]
//
// URL is the endpoint, e.g. http://host:5985/wsman or
// https://host:5986/wsman. Over http the messages are encrypted with the
// Kerberos session (--encryption auto, the default); over https TLS
// protects them and the Kerberos token is bound to the TLS channel.
// --proxy sends the messages through a proxy (default: HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY), which gets a Kerberos token for
// HTTP/<proxy host> when it asks for Negotiate (407).
// COMMAND and ARGS are joined with spaces into the command line, as
// Windows' winrs does; quoting is the remote shell's business.
//
// Exit status: the remote command's exit code (modulo 256); 125 when
// winrs itself fails (usage, connection, authentication, a fault); 130
// after an interrupt (the remote command is terminated and its shell
// deleted first).
package main
