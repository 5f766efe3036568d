#include <calisim/capture/link_type.hpp>

#include <pcap/pcap.h>

namespace calisim::capture {

int dlt_link_type(LinkType link) {
  switch (link) {
    case LinkType::kEthernet:
      return DLT_EN10MB;
    case LinkType::kRawIp:
      return DLT_RAW;
  }
  return DLT_NULL;
}

}  // namespace calisim::capture
