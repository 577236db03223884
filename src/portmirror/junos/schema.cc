#include "portmirror/junos/schema.h"

namespace portmirror::junos {

const Spec* Spec::child(std::string_view word) const {
  static const Spec kApplyGroups{"apply-groups", SpecKind::kLeafList, {}, {}};
  static const Spec kApplyGroupsExcept{"apply-groups-except", SpecKind::kLeafList, {}, {}};
  const std::vector<Spec>& kids = same_as ? same_as->children : children;
  for (const Spec& s : kids) {
    if (s.kind != SpecKind::kEntry && s.keyword == word) return &s;
  }
  if (kind == SpecKind::kContainer || kind == SpecKind::kNamed || kind == SpecKind::kEntry) {
    if (word == kApplyGroups.keyword) return &kApplyGroups;
    if (word == kApplyGroupsExcept.keyword) return &kApplyGroupsExcept;
  }
  for (const Spec& s : kids) {
    if (s.kind == SpecKind::kEntry) return &s;
  }
  return nullptr;
}

namespace {

using K = SpecKind;

Spec c(std::string kw, std::vector<Spec> kids) {
  return Spec{std::move(kw), K::kContainer, std::move(kids), {}};
}
Spec n(std::string kw, std::vector<Spec> kids) {
  return Spec{std::move(kw), K::kNamed, std::move(kids), {}};
}
Spec e(std::vector<Spec> kids) {
  return Spec{"", K::kEntry, std::move(kids), {}};
}
Spec leaf(std::string kw) {
  return Spec{std::move(kw), K::kLeaf, {}, {}};
}
Spec opt(std::string kw) {
  return Spec{std::move(kw), K::kOptLeaf, {}, {}};
}
Spec list(std::string kw) {
  return Spec{std::move(kw), K::kLeafList, {}, {}};
}
Spec flag(std::string kw) {
  return Spec{std::move(kw), K::kFlag, {}, {}};
}
Spec ign(std::string kw, std::string note = {}) {
  return Spec{std::move(kw), K::kIgnored, {}, std::move(note)};
}

// `source-address { 10.0.0.0/8; 10.1.0.0/16 except; }` (protocols.md §4.5)
Spec prefix_list(std::string kw) {
  return c(std::move(kw), {e({flag("except")})});
}

std::vector<Spec> from_children() {
  std::vector<Spec> v = {prefix_list("source-address"),
                         prefix_list("destination-address"),
                         prefix_list("address"),
                         prefix_list("source-prefix-list"),
                         prefix_list("destination-prefix-list"),
                         prefix_list("prefix-list"),
                         leaf("tcp-flags"),
                         flag("tcp-established"),
                         flag("tcp-initial"),
                         flag("first-fragment"),
                         flag("is-fragment")};
  for (const char* kw :
       {"protocol", "next-header", "payload-protocol", "source-port", "destination-port", "port",
        "icmp-type", "icmp-code", "dscp", "traffic-class", "fragment-offset"}) {
    v.push_back(list(kw));
    v.push_back(list(std::string(kw) + "-except"));
  }
  for (const char* kw : {"packet-length", "ttl", "precedence", "forwarding-class", "interface",
                         "ip-options", "fragment-flags", "loss-priority"}) {
    v.push_back(ign(kw, "match condition not used by the software mirror"));
  }
  return v;
}

std::vector<Spec> then_children() {
  return {flag("port-mirror"),
          leaf("port-mirror-instance"),
          flag("accept"),
          flag("discard"),
          opt("reject"),
          leaf("next"),
          leaf("count"),
          leaf("policer"),
          flag("log"),
          flag("syslog"),
          flag("sample"),
          leaf("forwarding-class"),
          leaf("loss-priority"),
          leaf("dscp"),
          leaf("routing-instance"),
          leaf("three-color-policer")};
}

std::vector<Spec> filter_children() {
  return {flag("interface-specific"),
          n("term", {c("from", from_children()), c("then", then_children())})};
}

std::vector<Spec> pm_input() {
  return {leaf("rate"), leaf("run-length"), leaf("maximum-packet-length")};
}

std::vector<Spec> pm_output() {
  return {n("interface", {list("next-hop")}), leaf("next-hop-group"), flag("no-filter-check")};
}

std::vector<Spec> pm_body() {
  return {c("input", pm_input()), n("family", {c("input", pm_input()), c("output", pm_output())}),
          c("output", pm_output()), flag("mirror-once"), ign("traceoptions")};
}

std::vector<Spec> fpc_body() {
  // Up to two instances per FPC on MX: `port-mirror-instance A; port-mirror-instance B;`.
  return {n("pic", {c("tunnel-services", {leaf("bandwidth")}), list("port-mirror-instance"),
                    ign("framing"), ign("port"), ign("number-of-ports")}),
          list("port-mirror-instance"), ign("sampling-instance")};
}

Spec build() {
  Spec unit =
      n("unit", {leaf("description"),
                 c("tunnel", {leaf("source"), leaf("destination"), leaf("ttl"), leaf("key"),
                              flag("copy-tos-to-outer-ip-header"), flag("allow-fragmentation"),
                              flag("do-not-fragment"), ign("routing-instance")}),
                 n("family", {n("address", {flag("primary"), flag("preferred"), ign("arp")}),
                              c("filter", {leaf("input"), leaf("output"), ign("input-list"),
                                           ign("output-list"), ign("group")}),
                              leaf("mtu"), ign("sampling"), flag("no-redirects")}),
                 leaf("vlan-id"), ign("encapsulation"), leaf("peer-unit")});
  Spec iface = e({leaf("description"), unit, leaf("mtu"), flag("vlan-tagging"),
                  ign("encapsulation"), leaf("speed"), ign("gigether-options"),
                  ign("ether-options"), ign("framing"), ign("t1-options"), flag("disable")});
  Spec static_routes =
      c("static", {n("route", {list("next-hop"), flag("discard"), flag("reject"), flag("receive"),
                               ign("qualified-next-hop"), flag("no-readvertise"),
                               leaf("preference"), leaf("metric")})});
  Spec root;
  root.kind = K::kContainer;
  root.children = {
      c("interfaces", {iface, ign("interface-range"), ign("traceoptions")}),
      c("forwarding-options",
        {c("port-mirroring", {pm_body()[0], pm_body()[1], pm_body()[2], pm_body()[3], pm_body()[4],
                              n("instance", pm_body())}),
         n("next-hop-group", {leaf("group-type"), n("interface", {list("next-hop")})}),
         ign("sampling"), ign("analyzer"), ign("family")}),
      c("firewall",
        {n("family", {n("filter", filter_children()), ign("service-filter")}),
         n("filter", filter_children()),
         n("policer", {c("if-exceeding", {leaf("bandwidth-limit"), leaf("bandwidth-percent"),
                                          leaf("burst-size-limit")}),
                       c("if-exceeding-pps", {leaf("pps-limit"), leaf("packet-burst")}),
                       c("then", {flag("discard"), leaf("loss-priority"), leaf("forwarding-class"),
                                  flag("out-of-profile")}),
                       flag("filter-specific"), flag("logical-interface-policer"),
                       flag("physical-interface-policer"), flag("shared-bandwidth-policer")})}),
      c("routing-options",
        {static_routes,
         // IPv6 static routes live in `rib inet6.0 static`.
         n("rib", {static_routes}), leaf("router-id"), leaf("autonomous-system")}),
      c("chassis", {n("fpc", fpc_body())}),
      // The seed's MX snippet shows `fpc 0 { pic 3 { ... } }` without its `chassis` parent.
      n("fpc", fpc_body()), c("policy-options", {n("prefix-list", {e({})})}),
      // A group holds any hierarchy of the top level (same_as is set in schema_root()).
      c("groups", {e({})}), ign("version"), ign("system"), ign("protocols"),
      ign("routing-instances"), ign("snmp"), ign("security"), ign("class-of-service"),
      ign("services")};
  return root;
}

}  // namespace

const Spec& schema_root() {
  static const Spec* const root = [] {
    static Spec r = build();
    // A group entry holds any top-level hierarchy: it shares the root's children (linked once the
    // root has its final address).
    for (Spec& s : r.children) {
      if (s.keyword == "groups") s.children[0].same_as = &r;
    }
    return &r;
  }();
  return *root;
}

}  // namespace portmirror::junos
