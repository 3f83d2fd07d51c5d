#!/bin/sh
# Generates the test PKI into DIR (default: ./certs). Run at test time; nothing here is committed.
#   ca.pem / ca.key              the trusted test CA (ECDSA P-256)
#   other-ca.pem                 an unrelated CA nothing chains to
#   server.pem / server.key      leaf for localhost, 127.0.0.1 (signed by ca)
#   server-rsa.pem / .key        the same with an RSA-2048 key
#   chain.pem                    server.pem followed by ca.pem
#   expired.pem / .key           leaf valid only in the past
#   notyet.pem / .key            leaf valid only in the future
#   wrongname.pem / .key         leaf for wrong.example only
#   untrusted.pem / .key         leaf for localhost signed by other-ca
#   client.pem / client.key      a client certificate (signed by ca)
#   wild.pem / wild.key          leaf for DNS:*.wild.example, subject /C=XX/O=nbtls tests/CN=*.wild.example
#                                (signed by ca; SNI wildcard tests)
set -eu
DIR=${1:-certs}
mkdir -p "$DIR"
cd "$DIR"
[ -f .done ] && exit 0

eckey() { openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$1"; }

mkca() { # name subject
	eckey "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		-out "$1.pem" 2>/dev/null
	mkdir -p "db-$1"; : > "db-$1/index.txt"; echo 1000 > "db-$1/serial"
}

# leaf NAME CA SAN START END [rsa] [ext]
leaf() {
	name=$1 ca=$2 san=$3 start=$4 end=$5 kind=${6:-ec} eku=${7:-serverAuth}
	if [ "$kind" = rsa ]; then
		openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$name.key"
	else
		eckey "$name.key"
	fi
	openssl req -new -key "$name.key" -subj "/CN=${san#DNS:}" -out "$name.csr" 2>/dev/null
	cat > "$name.cnf" <<CNF
[ ca ]
default_ca = c
[ c ]
database = db-$ca/index.txt
serial = db-$ca/serial
new_certs_dir = db-$ca
certificate = $ca.pem
private_key = $ca.key
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[ p ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = $eku
subjectAltName = $san
CNF
	openssl ca -batch -config "$name.cnf" -extensions ext -startdate "$start" -enddate "$end" \
		-in "$name.csr" -out "$name.pem" -notext 2>/dev/null
	rm -f "$name.csr" "$name.cnf"
}

PAST1=20200101000000Z PAST2=20210101000000Z
NOW=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ) LATER=$(date -u -d '+3650 day' +%Y%m%d%H%M%SZ)
FUT1=$(date -u -d '+3000 day' +%Y%m%d%H%M%SZ) FUT2=$(date -u -d '+3650 day' +%Y%m%d%H%M%SZ)

mkca ca "nbtls test CA"
mkca other-ca "nbtls other CA"
leaf server ca "DNS:localhost,IP:127.0.0.1" "$NOW" "$LATER"
leaf server-rsa ca "DNS:localhost,IP:127.0.0.1" "$NOW" "$LATER" rsa
leaf expired ca "DNS:localhost,IP:127.0.0.1" "$PAST1" "$PAST2"
leaf notyet ca "DNS:localhost,IP:127.0.0.1" "$FUT1" "$FUT2"
leaf wrongname ca "DNS:wrong.example" "$NOW" "$LATER"
leaf untrusted other-ca "DNS:localhost,IP:127.0.0.1" "$NOW" "$LATER"
leaf client ca "DNS:client.example" "$NOW" "$LATER" ec clientAuth
cat server.pem ca.pem > chain.pem
# The wildcard leaf, made as src/conn/tests_sessions.rs makes it in older directories.
if [ ! -f wild.pem ]; then
	eckey wild.key
	openssl req -new -key wild.key -subj '/C=XX/O=nbtls tests/CN=*.wild.example' -out wild.csr 2>/dev/null
	printf 'subjectAltName=DNS:*.wild.example\nextendedKeyUsage=serverAuth\n' > wild.ext
	openssl x509 -req -in wild.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
		-extfile wild.ext -out wild.pem 2>/dev/null
	rm -f wild.csr wild.ext
fi
touch .done
