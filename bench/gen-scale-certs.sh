#!/bin/sh
# Generates the certificates of the scaling workloads into DIR, next to the test PKI that
# tests/gen-certs.sh made there (it needs DIR/ca.pem and DIR/ca.key). Bench only; nothing
# here is committed, and a second run does nothing (DIR/scale/.done).
#   scale/ca150.pem                  149 unrelated self-signed ECDSA P-256 CAs, then ca.pem
#                                    (handshake_*_ca150: the real CA last, so a search by
#                                    subject passes every other one)
#   scale/sni-NN.pem / .key          50 leaves, NN = 01..50, for DNS:sni-NN.example, signed by
#                                    ca, each with its own P-256 key (handshake_full_sni50)
set -eu
DIR=${1:-certs}
[ -f "$DIR/ca.pem" ] && [ -f "$DIR/ca.key" ] || { echo "gen-scale-certs: run tests/gen-certs.sh $DIR first" >&2; exit 1; }
mkdir -p "$DIR/scale"
cd "$DIR/scale"
[ -f .done ] && exit 0

# One openssl process per certificate: a new P-256 key and a self-signed CA certificate.
: >ca150.tmp
i=1
while [ "$i" -le 149 ]; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null \
		-sha256 -days 3650 -subj "/O=nbtls bench/CN=unrelated CA $i" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null >>ca150.tmp
	i=$((i + 1))
done
cat ../ca.pem >>ca150.tmp
mv ca150.tmp ca150.pem

printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >ext.base
i=1
while [ "$i" -le 50 ]; do
	n=$(printf '%02d' "$i")
	{ cat ext.base; echo "subjectAltName=DNS:sni-$n.example"; } >ext.cnf
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "sni-$n.key" \
		-subj "/CN=sni-$n.example" 2>/dev/null |
		openssl x509 -req -CA ../ca.pem -CAkey ../ca.key -set_serial "$((5000 + i))" -days 3650 \
			-sha256 -extfile ext.cnf -out "sni-$n.pem" 2>/dev/null
	i=$((i + 1))
done
rm -f ext.base ext.cnf
touch .done
