#include <calisim/capture/link_type.hpp>

#include <gtest/gtest.h>
#include <pcap/pcap.h>

namespace calisim::capture {
namespace {

// Files carry LINKTYPE_* numbers, the libpcap API takes DLT_* ones; they differ for raw IP.
TEST(CaptureLinkType, FileAndApiNumbers) {
  EXPECT_EQ(file_link_type(LinkType::kEthernet), 1);
  EXPECT_EQ(file_link_type(LinkType::kRawIp), 101);
  EXPECT_EQ(dlt_link_type(LinkType::kEthernet), DLT_EN10MB);
  EXPECT_EQ(dlt_link_type(LinkType::kRawIp), DLT_RAW);
#ifdef __linux__
  EXPECT_EQ(dlt_link_type(LinkType::kRawIp), 12);
#endif
  // libpcap itself agrees on the mapping it applies when writing a file.
  const char* raw = pcap_datalink_val_to_name(dlt_link_type(LinkType::kRawIp));
  const char* ethernet = pcap_datalink_val_to_name(dlt_link_type(LinkType::kEthernet));
  ASSERT_NE(raw, nullptr);
  ASSERT_NE(ethernet, nullptr);
  EXPECT_STREQ(raw, "RAW");
  EXPECT_STREQ(ethernet, "EN10MB");
  EXPECT_EQ(to_string(LinkType::kRawIp), "raw-ip");
}

}  // namespace
}  // namespace calisim::capture
