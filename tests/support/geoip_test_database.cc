#include "support/geoip_test_database.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "support/child_process.h"

namespace shadowplane::testing {

absl::StatusOr<std::string> BuildGeoIpTestDatabase(const std::string& dir) {
  const std::string script = dir + "/build-geoip.pl";
  const std::string path = dir + "/test.mmdb";
  std::ofstream(script) << R"PERL(
use strict;
use MaxMind::DB::Writer::Tree;
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version => 6, record_size => 24, database_type => 'shadowplane-test',
  languages => ['en'], description => { en => 'shadowplane test regions' },
  remove_reserved_networks => 0,
  map_key_type_callback => sub { $_[0] eq 'country' ? 'map' : 'utf8_string' },
);
$tree->insert_network('192.0.2.0/24', { region => 'eu-central', country => { iso_code => 'DE' } });
$tree->insert_network('198.51.100.0/24', { region => 'ap-southeast' });
$tree->insert_network('2001:db8::/32', { region => 'us-east' });
$tree->insert_network('203.0.113.0/24', { other => 'no region here' });
open my $fh, '>:raw', $ARGV[0] or die;
$tree->write_tree($fh);
close $fh;
)PERL";
  auto built = RunToCompletion({"/usr/bin/perl", script, path});
  if (built.exit_code != 0) {
    return absl::InternalError(absl::StrCat("building the test GeoIP database: ", built.output));
  }
  return path;
}

}  // namespace shadowplane::testing
