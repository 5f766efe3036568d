#pragma once
// `calicoctl ipam show` views, printed as calicoctl v3.28 prints them
// (calicoctl/calicoctl/commands/ipam/show.go: showBlockUtilization, showBorrowedDetails, showIP,
// showConfiguration; numbers from libcalico-go ipam.go GetUtilization).
//
// The bordered tables are olekukonko/tablewriter v0.0.5's default layout, which calicoctl used
// through v3.32 (HEAD moved to go-pretty and added an IPS RESERVED column).

#include <span>
#include <string>
#include <vector>

#include <calisim/calico/ipam.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::calico {

// `calicoctl ipam show` (and with show_blocks, `--show-blocks`): one row per pool, in pool name
// order, then (with --show-blocks) its blocks in datastore order; blocks outside every pool are
// listed last without a pool row.
std::string calicoctl_ipam_show(const Ipam& ipam, bool show_blocks = false);

// `calicoctl ipam show --show-borrowed`: every allocation whose "node" attribute differs from
// its block's affinity.
std::string calicoctl_ipam_show_borrowed(const Ipam& ipam);

// `calicoctl ipam show --ip=<IP>`. v3.28 walks the attribute map in Go's random order; calisim
// prints the keys sorted, as HEAD does.
std::string calicoctl_ipam_show_ip(const Ipam& ipam, wire::Ipv4Address address);

// `calicoctl ipam show --show-configuration`: the IPAMConfig fields with Go's %#v.
std::string calicoctl_ipam_show_configuration(const Ipam& ipam);

// tablewriter v0.0.5 with calicoctl's settings (all defaults): '+', '-', '|' borders, header
// upper-cased and centred, cells padded by one space, a cell right-aligned when it reads as a
// number, wrapped at spaces when wider than 30 columns. Other calicoctl views can share it.
std::string render_tablewriter(std::span<const std::string> header,
                               std::span<const std::vector<std::string>> rows);

}  // namespace calisim::calico
