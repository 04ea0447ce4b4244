// The instance's access log and the client address behind a proxy: numbering, paging, what was
// lost, the text form both ways and hostile pages; X-Forwarded-For believed only from a trusted
// proxy and only when it names an address.
#include "instance/access_log.h"

#include <gtest/gtest.h>

#include "instance/client_address.h"

namespace shadowplane::instance {
namespace {

AccessRecord Record(const std::string& ip, int64_t in, int64_t out) {
  AccessRecord r;
  r.at = absl::FromUnixMicros(1765000000123456);
  r.client_ip = ip;
  r.method = "GET";
  r.bytes_in = in;
  r.bytes_out = out;
  r.latency = absl::Microseconds(1500);
  r.status = 200;
  return r;
}

TEST(AccessLogTest, PagesAfterANumberAndSaysWhatWasLost) {
  AccessLog log(4);
  EXPECT_EQ(log.epoch().size(), 16u);
  EXPECT_NE(log.epoch(), AccessLog(4).epoch()) << "each process's log has its own epoch";
  AccessPage empty = log.After(0, 10);
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.next, 1);
  for (int i = 1; i <= 6; ++i) log.Note(Record("127.100.0." + std::to_string(i), i, 10 * i));
  // Capacity 4: records 1 and 2 were overwritten.
  AccessPage page = log.After(0, 10);
  EXPECT_EQ(page.lost, 2);
  ASSERT_EQ(page.records.size(), 4u);
  EXPECT_EQ(page.records.front().seq, 3);
  EXPECT_EQ(page.records.front().client_ip, "127.100.0.3");
  EXPECT_EQ(page.next, 7);
  // Paged: two at a time after 3.
  page = log.After(3, 2);
  EXPECT_EQ(page.lost, 0);
  ASSERT_EQ(page.records.size(), 2u);
  EXPECT_EQ(page.records[0].seq, 4);
  EXPECT_EQ(page.records[1].seq, 5);
  EXPECT_EQ(page.next, 6);
  // Nothing after the newest; a number past it reads as the newest.
  EXPECT_TRUE(log.After(6, 10).records.empty());
  EXPECT_EQ(log.After(99, 10).next, 7);
}

TEST(AccessLogTest, TheTextFormRoundTripsAndHostilePagesAreRefused) {
  AccessLog log;
  AccessRecord with_id = Record("::1", 120, 4096);
  with_id.client_id = "client-7";
  with_id.method = "PUT";
  log.Note(with_id);
  log.Note(Record("127.100.3.4", 80, 200));
  AccessPage page = log.After(0, 10);
  page.bytes_in_total = 1000;
  page.bytes_out_total = 5000;
  absl::StatusOr<AccessPage> back = AccessLog::FromText(AccessLog::ToText(page));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->epoch, log.epoch());
  EXPECT_EQ(back->next, 3);
  EXPECT_EQ(back->bytes_out_total, 5000);
  ASSERT_EQ(back->records.size(), 2u);
  EXPECT_EQ(back->records[0].client_id, "client-7");
  EXPECT_EQ(back->records[0].method, "PUT");
  EXPECT_EQ(back->records[0].bytes_out, 4096);
  EXPECT_EQ(back->records[0].at, with_id.at);
  EXPECT_EQ(back->records[0].latency, absl::Microseconds(1500));
  EXPECT_EQ(back->records[1].client_id, "");
  const std::string header = "0123456789abcdef\t3\t0\t0\t0\n";
  for (const std::string& bad : {
           std::string(""), std::string("epoch\tx\t0\t0\t0\n"),
           header + "1\t2\t::1\t-\tGET\t-5\t0\t0\t200\n",             // negative bytes
           header + "1\t2\t::1\t-\tGET\t5\t0\t0\n",                   // a field short
           header + "1\t2\t::1\tid with space\tGET\t5\t0\t0\t200\n",  // not one field
           header + "0\t2\t::1\t-\tGET\t5\t0\t0\t200\n",              // numbered from 1
       }) {
    EXPECT_EQ(AccessLog::FromText(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(UsableClientId("c-1"), "c-1");
  EXPECT_EQ(UsableClientId("has space"), "");
  EXPECT_EQ(UsableClientId(std::string(129, 'x')), "");
}

TEST(ClientAddressTest, ForwardedForIsBelievedOnlyFromATrustedProxy) {
  const std::vector<std::string> trusted = {"127.0.0.1", "::1"};
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // No header: the peer.
  ClientAddress a = ClientAddressOf({}, "127.100.2.3", trusted);
  EXPECT_EQ(a.address, "127.100.2.3");
  EXPECT_EQ(a.source, ClientAddressSource::kPeer);
  // From the proxy: the last element of the last header (what the proxy appended).
  a = ClientAddressOf(
      Headers{{"X-Forwarded-For", "6.6.6.6"}, {"x-forwarded-for", "10.0.0.1, 127.100.5.6"}},
      "127.0.0.1", trusted);
  EXPECT_EQ(a.address, "127.100.5.6");
  EXPECT_EQ(a.source, ClientAddressSource::kForwarded);
  a = ClientAddressOf(Headers{{"X-Forwarded-For", "2001:DB8::1"}}, "::1", trusted);
  EXPECT_EQ(a.address, "2001:db8::1");
  // From anyone else the header is a claim: ignored, and said so.
  a = ClientAddressOf(Headers{{"X-Forwarded-For", "8.8.8.8"}}, "127.100.2.3", trusted);
  EXPECT_EQ(a.address, "127.100.2.3");
  EXPECT_EQ(a.source, ClientAddressSource::kUntrustedForwardedFor);
  // A proxy's header that names no address.
  for (const char* bad : {"", "unknown", "1.2.3.4:80", "1.2.3.4, ", "999.1.1.1"}) {
    a = ClientAddressOf(Headers{{"X-Forwarded-For", bad}}, "127.0.0.1", trusted);
    EXPECT_EQ(a.address, "127.0.0.1") << bad;
    EXPECT_EQ(a.source, ClientAddressSource::kMalformedForwardedFor) << bad;
  }
  EXPECT_EQ(CanonicalAddress("0:0:0:0:0:0:0:1").value(), "::1");
  EXPECT_FALSE(CanonicalAddress("localhost").ok());
}

}  // namespace
}  // namespace shadowplane::instance
