# A stand-in for an ISP's smarthost, run on its own test host with `bash -s` (the relay login's
# password is written to /root/relay-password first, 0600):
# Postfix with submission on 587, STARTTLS required, SASL through Dovecot for one login, and
# local delivery for external.test so the relayed message can be read back.
set -euo pipefail
password=$(cat /root/relay-password)
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
pkgs="postfix dovecot-core libsasl2-modules openssl ca-certificates"
apt-get install -y -q --no-install-recommends $pkgs >/tmp/apt.log 2>&1 || { apt-get update -q >>/tmp/apt.log 2>&1; apt-get install -y -q --no-install-recommends $pkgs >>/tmp/apt.log 2>&1; }
id victim >/dev/null 2>&1 || useradd -m victim
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=smtp.provider.test \
  -keyout /etc/ssl/private/provider.key -out /etc/ssl/certs/provider.crt 2>/dev/null
chmod 600 /etc/ssl/private/provider.key
umask 027
printf 'relayuser:{PLAIN}%s\n' "$password" >/etc/dovecot/relay-users
chgrp dovecot /etc/dovecot/relay-users
cat >/etc/dovecot/dovecot.conf <<'CONF'
protocols =
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = /etc/dovecot/relay-users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
ssl = no
CONF
postconf -e myhostname=smtp.provider.test 'mydestination=$myhostname, external.test, localhost' \
  inet_interfaces=all inet_protocols=all 'mynetworks=127.0.0.0/8 [::1]/128' \
  smtpd_sasl_type=dovecot smtpd_sasl_path=private/auth smtpd_tls_security_level=may \
  'smtpd_tls_chain_files=/etc/ssl/private/provider.key, /etc/ssl/certs/provider.crt' smtpd_tls_auth_only=yes
postconf -M 'submission/inet=submission inet n - y - - smtpd'
postconf -P submission/inet/syslog_name=postfix/submission submission/inet/smtpd_tls_security_level=encrypt \
  submission/inet/smtpd_sasl_auth_enable=yes submission/inet/smtpd_relay_restrictions=permit_sasl_authenticated,reject \
  submission/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject
systemctl restart dovecot
systemctl restart postfix
systemctl is-active --quiet postfix@- dovecot
