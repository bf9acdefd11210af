#!/usr/bin/perl
# Password checks per second through Dovecot's auth-client socket (the protocol Postfix speaks):
# PROCS connections, each sending AUTH PLAIN requests one after another for SECONDS.
# The user and password come on stdin ("user\tpassword\n"). Prints "ok N failed M".
use strict;
use warnings;
use IO::Socket::UNIX;
use MIME::Base64;
use Time::HiRes qw(time);
my ($procs, $secs) = @ARGV;
my $line = <STDIN>;
chomp $line;
my ($user, $pass) = split /\t/, $line, 2;
my $resp = encode_base64("\0$user\0$pass", "");
my $end = time + $secs;
my @kids;
pipe(my $r, my $w) or die;
for my $k (1 .. $procs) {
  my $pid = fork() // die;
  if ($pid == 0) {
    close $r;
    my $s = IO::Socket::UNIX->new(Peer => "/run/dovecot/auth-client", Type => SOCK_STREAM) or die "connect: $!";
    print $s "VERSION\t1\t2\nCPID\t$$\n";
    while (my $l = <$s>) { last if $l =~ /^DONE/ }
    my ($ok, $failed, $id) = (0, 0, 0);
    while (time < $end) {
      $id++;
      print $s "AUTH\t$id\tPLAIN\tservice=smtp\tnologin\tresp=$resp\n";
      my $l = <$s>;
      if ($l =~ /^OK\t/) { $ok++ } else { $failed++ }
    }
    print $w "$ok $failed\n";
    exit 0;
  }
  push @kids, $pid;
}
close $w;
my ($ok, $failed) = (0, 0);
while (my $l = <$r>) { my ($o, $f) = split ' ', $l; $ok += $o; $failed += $f }
waitpid($_, 0) for @kids;
print "ok $ok failed $failed\n";
