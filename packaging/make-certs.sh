#!/usr/bin/env bash
# Makes a throwaway certificate authority and the certificates a local TLS setup of LMS needs, in
# DIR (default ./certs). Never use them in production: the keys sit unencrypted next to them.
#
#   ca.crt, ca.key                  the CA every certificate below is signed by
#   server.crt, server.key          for lms (SQL port and HTTP port), lms-orchestrator and PostgreSQL:
#                                   localhost, 127.0.0.1, 127.0.0.2, ::1 (and $LMS_CERT_HOSTS, comma-
#                                   separated; LMS_CERT_NAMES replaces them all); usable as a client
#                                   certificate too (the orchestrator
#                                   presents it to the proxies)
#   client.crt, client.key          an operator's client certificate (lms-cli)
#   expired-client.crt, .key        the same, expired yesterday
#   other-ca.crt, other-client.*    a second CA and a client certificate it signed
#
# Kubernetes: put ca.crt, server.crt and server.key in the secrets lms-tls and orch-tls under the
# names the documentation uses (lms-ca.crt, lms-tls.crt, lms-tls.key, ...).
set -euo pipefail
dir=${1:-certs}
mkdir -p "$dir"
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # name, subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

sign() {  # name, subject, CA, days, extensions file
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" -days "$4" \
    -extfile "$5" 2>/dev/null
  rm -f "$1.csr"
}

ca ca "/CN=LMS local CA"
ca other-ca "/CN=Another CA"

# LMS_CERT_NAMES replaces the default names entirely (a subjectAltName list, e.g. DNS:db.example).
names=${LMS_CERT_NAMES:-DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1}
hosts=${LMS_CERT_HOSTS:-}
for h in ${hosts//,/ }; do
  if [[ $h =~ ^[0-9.:]+$ ]]; then names+=",IP:$h"; else names+=",DNS:$h"; fi
done
cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$names
EXT
cat > client.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
sign server "/CN=localhost" ca 825 server.ext
sign client "/CN=lms-operator" ca 825 client.ext
sign expired-client "/CN=lms-operator" ca -1 client.ext
sign other-client "/CN=lms-operator" other-ca 825 client.ext
rm -f server.ext client.ext ./*.srl
chmod 600 ./*.key
chmod 644 ./*.crt
echo "certificates in $(pwd)"
