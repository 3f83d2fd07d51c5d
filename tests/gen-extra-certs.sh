#!/bin/sh
# Generates the extra certificates of capi-tests/robust_certs.c into OUT, from the test PKI
# that tests/gen-certs.sh made in CERTS (its ca.pem / ca.key sign the first links).
#   sh tests/gen-extra-certs.sh CERTS OUT
#   i1.pem i2.pem i3.pem          a chain of intermediate CAs under ca (i1 <- ca, i2 <- i1, ...)
#   leaf1.pem / .key              localhost leaf signed by i1 (sent without i1: unknown issuer)
#   leaf1-chain.pem               leaf1 followed by i1 (valid)
#   leaf3.pem / .key              localhost leaf signed by i3
#   leaf3-chain.pem               leaf3, i3, i2, i1 (three intermediates)
#   iexp.pem, leafexp.pem / .key  an intermediate valid only in the past, a current leaf under it
#   leafexp-chain.pem             leafexp followed by iexp
#   selfsigned.pem / .key         a self-signed localhost leaf (not a CA)
#   sha1.pem / .key               localhost leaf signed by ca with ECDSA-SHA1 (weak)
#   caleaf.pem / .key             a CA certificate (CA:TRUE) for localhost, signed by ca,
#                                 presented as a server's leaf
#   selfclient.pem / .key         a self-signed client certificate (clientAuth), as programs
#                                 that check tls_peer_cert_hash themselves use
#   clientexp.pem / .key          a client certificate signed by ca, valid only in the past
# Nothing here is committed; it runs at test time (a few EC keys, well under a second).
set -eu
CERTS=$(cd "$1" && pwd)
OUT=$2
mkdir -p "$OUT"
cd "$OUT"
cp "$CERTS/ca.pem" "$CERTS/ca.key" .

eckey() { openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$1"; }

NOW=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ) LATER=$(date -u -d '+3650 day' +%Y%m%d%H%M%SZ)
PAST1=20200101000000Z PAST2=20210101000000Z

# sign NAME ISSUER KIND(ca|leaf) SAN START END [MD]
sign() {
	name=$1 issuer=$2 kind=$3 san=$4 start=$5 end=$6 md=${7:-sha256}
	eckey "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=nbtls extra $name" -out "$name.csr" 2>/dev/null
	mkdir -p "db-$issuer"
	[ -f "db-$issuer/index.txt" ] || { : > "db-$issuer/index.txt"; echo 2000 > "db-$issuer/serial"; }
	if [ "$kind" = ca ]; then
		ext="basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign"
	else
		ext="basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = ${EKU:-serverAuth}"
	fi
	[ -n "$san" ] && ext="$ext
subjectAltName = $san"
	cat > "$name.cnf" <<CNF
[ ca ]
default_ca = c
[ c ]
database = db-$issuer/index.txt
serial = db-$issuer/serial
new_certs_dir = db-$issuer
certificate = $issuer.pem
private_key = $issuer.key
default_md = $md
policy = p
unique_subject = no
copy_extensions = none
[ p ]
commonName = supplied
[ ext ]
$ext
CNF
	openssl ca -batch -config "$name.cnf" -extensions ext -startdate "$start" -enddate "$end" \
		-in "$name.csr" -out "$name.pem" -notext 2>/dev/null
	rm -f "$name.csr" "$name.cnf"
}

L="DNS:localhost,IP:127.0.0.1"
sign i1 ca ca "" "$NOW" "$LATER"
sign i2 i1 ca "" "$NOW" "$LATER"
sign i3 i2 ca "" "$NOW" "$LATER"
sign leaf1 i1 leaf "$L" "$NOW" "$LATER"
sign leaf3 i3 leaf "$L" "$NOW" "$LATER"
sign iexp ca ca "" "$PAST1" "$PAST2"
sign leafexp iexp leaf "$L" "$NOW" "$LATER"
sign sha1 ca leaf "$L" "$NOW" "$LATER" sha1
sign caleaf ca ca "$L" "$NOW" "$LATER"
EKU=clientAuth sign clientexp ca leaf "DNS:client.example" "$PAST1" "$PAST2"
cat leaf1.pem i1.pem > leaf1-chain.pem
cat leaf3.pem i3.pem i2.pem i1.pem > leaf3-chain.pem
cat leafexp.pem iexp.pem > leafexp-chain.pem
eckey selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days 3650 -subj "/CN=localhost" \
	-addext basicConstraints=critical,CA:FALSE -addext subjectAltName=$L \
	-addext extendedKeyUsage=serverAuth -out selfsigned.pem 2>/dev/null
eckey selfclient.key
openssl req -x509 -new -key selfclient.key -sha256 -days 3650 -subj "/CN=self-signed client" \
	-addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=clientAuth \
	-out selfclient.pem 2>/dev/null
rm -f ca.key
