// `check` rules: each one fires on a configuration that has the mistake (positive) and stays quiet
// on the clean configuration it was derived from (negative). Exit codes 0/1/2/3.
#include <gtest/gtest.h>

#include "test_support.h"

namespace portmirror::junos::test {
namespace {

std::string clean() {
  return read_file(data("clean/router.conf"));
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << "test bug: '" << from << "' not in the clean config";
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

std::string replaced_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

CheckResult check(const std::string& text) {
  return check_text("r.conf", text, CheckOptions{});
}

std::size_t has(const CheckResult& r, Severity sev, const std::string& needle) {
  return find_diags(r.diags, sev, needle).size();
}

TEST(Check, CleanConfigurationIsCleanAndSuggestsTheCollector) {
  CheckResult r = check(clean());
  EXPECT_EQ(r.exit_code, 0) << render_check(r);
  EXPECT_EQ(count(r.diags, Severity::kWarning), 0u);
  EXPECT_EQ(count(r.diags, Severity::kError), 0u);
  ASSERT_EQ(r.collector_commands.size(), 1u);
  EXPECT_EQ(r.collector_commands[0],
            "portmirror capture --listen 192.168.51.20 --allow 192.168.50.10/32 -w "
            "mirror.pcapng");
}

TEST(Check, CollectorCommandCarriesTheKey) {
  CheckResult r = check(replaced(clean(), "ttl 10;", "ttl 10;\n                key 7;"));
  ASSERT_EQ(r.collector_commands.size(), 1u);
  EXPECT_EQ(r.collector_commands[0],
            "portmirror capture --listen 192.168.51.20 --allow 192.168.50.10/32 --key 7 -w "
            "mirror.pcapng");
}

TEST(Check, GrUnitWithoutFamilyInetAddress) {
  CheckResult r = check(replaced(clean(),
                                 "            family inet {\n"
                                 "                address 172.16.28.1/30;\n"
                                 "            }\n",
                                 ""));
  EXPECT_EQ(has(r, Severity::kError, "gr-0/2/0.100 has no 'family inet address'"), 1u);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(has(check(clean()), Severity::kError, "has no 'family inet address'"), 0u);
}

TEST(Check, TunnelEndpointsMissingOrInsideTheUnitSubnet) {
  CheckResult r = check(replaced(clean(), "destination 192.168.51.20;", ""));
  EXPECT_EQ(has(r, Severity::kError, "needs both 'source' and 'destination'"), 1u);
  CheckResult r2 =
      check(replaced(clean(), "destination 192.168.51.20;", "destination 172.16.28.2;"));
  EXPECT_EQ(has(r2, Severity::kError, "lies in the unit's own subnet 172.16.28.1/30"), 1u);
  EXPECT_EQ(has(check(clean()), Severity::kError, "own subnet"), 0u);
}

TEST(Check, OutputInterfaceNamingAnUndefinedUnit) {
  CheckResult r = check(replaced(clean(), "interface gr-0/2/0.100;", "interface gr-0/2/0.101;"));
  auto d = find_diags(r.diags, Severity::kError, "output interface gr-0/2/0.101 is not defined");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 47);
  // A snippet without any `interfaces` says where to look instead of failing.
  CheckResult snippet = check_files({seed("router-2-port-mirroring.conf")}, CheckOptions{});
  EXPECT_EQ(has(snippet, Severity::kWarning, "check it together with the file that defines it"),
            1u);
  EXPECT_EQ(snippet.exit_code, 1);
}

TEST(Check, MirrorDestinationWithAFilterNeedsNoFilterCheck) {
  std::string text = replaced(clean(), "no-filter-check;", "");
  text = replaced(text, "                address 172.16.28.1/30;",
                  "                filter { input capture-filter; }\n"
                  "                address 172.16.28.1/30;");
  EXPECT_EQ(has(check(text), Severity::kWarning, "has no 'no-filter-check'"), 1u);
  std::string with =
      replaced(text, "interface gr-0/2/0.100;", "interface gr-0/2/0.100;\n no-filter-check;");
  EXPECT_EQ(has(check(with), Severity::kWarning, "no-filter-check"), 0u);
}

TEST(Check, PortMirrorActionWithoutPortMirroring) {
  std::string text = clean();
  auto start = text.find("forwarding-options {");
  auto end = text.find("routing-options {");
  text.erase(start, end - start);
  CheckResult r = check(text);
  EXPECT_EQ(has(r, Severity::kWarning, "but no 'forwarding-options port-mirroring' is configured"),
            1u);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "port-mirroring' is configured"), 0u);
  // A named instance that does not exist is an error.
  CheckResult r2 = check(replaced(clean(), "port-mirror;", "port-mirror-instance NOPE;"));
  EXPECT_EQ(has(r2, Severity::kError, "port-mirror-instance 'NOPE' is not configured"), 1u);
}

TEST(Check, PortMirroringThatNoFilterUses) {
  CheckResult r = check(replaced(clean(), "port-mirror;", "count c;"));
  EXPECT_EQ(has(r, Severity::kWarning, "port-mirroring is configured but no firewall filter term"),
            1u);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "no firewall filter term"), 0u);
}

TEST(Check, FilterDefinedButBoundNowhere) {
  CheckResult r = check(replaced(clean(),
                                 "                filter {\n"
                                 "                    input capture-filter;\n"
                                 "                }\n",
                                 ""));
  EXPECT_EQ(has(r, Severity::kWarning, "filter capture-filter is not bound to any interface"), 1u);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "is not bound"), 0u);
  CheckResult r2 = check(replaced(clean(), "input capture-filter;", "input other-filter;"));
  EXPECT_EQ(
      has(r2, Severity::kError, "filter other-filter bound input on t1-1/0/3:3.0 is not defined"),
      1u);
}

TEST(Check, RunLengthCarriesThePlatformNote) {
  CheckResult r = check(replaced(clean(), "rate 1;", "rate 5;\n                run-length 3;"));
  auto d =
      find_diags(r.diags, Severity::kWarning,
                 "run-length 3 is not supported on MX Series with MPCs (Trio) or on T4000 FPC5");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->message.find("adds nothing"), std::string::npos) << "rate is not 1";
  CheckResult one = check(replaced(clean(), "rate 1;", "rate 1;\n                run-length 1;"));
  EXPECT_EQ(has(one, Severity::kWarning, "with rate 1 every matching packet is already mirrored"),
            1u);
  CheckResult zero = check(replaced(clean(), "rate 1;", "rate 1;\n                run-length 0;"));
  EXPECT_EQ(has(zero, Severity::kWarning, "run-length"), 0u);
}

TEST(Check, GrInterfaceNeedsTunnelServicesOnItsPic) {
  CheckResult r = check(replaced(clean(), "pic 2 {", "pic 3 {"));
  EXPECT_EQ(has(r, Severity::kWarning, "gr-0/2/0 is on FPC 0 PIC 2, which has no tunnel-services"),
            1u);
  EXPECT_EQ(has(r, Severity::kWarning, "FPC 0 PIC 3 (which creates gr-0/3/0)"), 1u);
  CheckResult port = check(replaced(clean(), "bandwidth 10g;", "bandwidth 1g;"));
  EXPECT_EQ(has(port, Severity::kWarning, "creates port 10 (gr-0/2/10), not port 0"), 1u);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "tunnel-services"), 0u);
  // Without any chassis configuration there is only a note.
  CheckResult alone = check_files({seed("router-1-gre-tunnel.conf")}, CheckOptions{});
  EXPECT_EQ(
      has(alone, Severity::kNote, "needs") +
          has(alone, Severity::kNote, "exists only with 'chassis fpc 0 pic 2 tunnel-services'"),
      1u);
  EXPECT_EQ(alone.exit_code, 0);
}

// Output-bound filter whose term matches the tunnel's own GRE packets, and a static route that
// sends the tunnel destination out of that interface.
std::string loop_config(const char* direction) {
  std::string t =
      replaced(clean(), "input capture-filter;", std::string(direction) + " capture-filter;");
  t = replaced(t, "route 192.168.70.0/24 next-hop 192.168.35.2;",
               "route 192.168.70.0/24 next-hop 192.168.35.2;\n"
               "        route 192.168.51.0/24 next-hop 192.168.35.2;");
  return replaced(t, "192.168.35.0/30;\n",
                  "192.168.35.0/30;\n                        192.168.50.0/24;\n");
}

TEST(Check, TunnelDestinationRoutedBackIntoTheMirroredInterfaceIsALoop) {
  CheckResult r = check(loop_config("output"));
  auto d = find_diags(r.diags, Severity::kWarning,
                      "mirror loop: tunnel destination 192.168.51.20 of gr-0/2/0.100 is reached "
                      "via static route 192.168.51.0/24 out of t1-1/0/3:3.0");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_EQ(has(check(loop_config("input")), Severity::kWarning, "mirror loop"), 0u);
  // Routed there, but the first matching term does not mirror GRE from 192.168.50.10.
  std::string no_match =
      replaced(loop_config("output"), "                        192.168.50.0/24;\n", "");
  EXPECT_EQ(has(check(no_match), Severity::kWarning, "mirror loop"), 0u);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "mirror loop"), 0u);
}

TEST(Check, OutputFilterMatchingSourcesRoutedOutOfThatInterfaceSuggestsInput) {
  CheckResult r = check(replaced(clean(), "input capture-filter;", "output capture-filter;"));
  auto d = find_diags(r.diags, Severity::kWarning,
                      "filter capture-filter is bound 'output' on t1-1/0/3:3.0");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(
      d[0]->message.find("192.168.70.0/24 (static route 192.168.70.0/24 next-hop 192.168.35.2"),
      std::string::npos);
  EXPECT_NE(d[0]->message.find("192.168.35.0/30 (the unit's own subnet"), std::string::npos);
  EXPECT_NE(d[0]->message.find("bind the filter 'input' instead"), std::string::npos);
  EXPECT_EQ(has(check(clean()), Severity::kWarning, "bound 'output'"), 0u);
  // Output-bound, but matching *destination* addresses routed there: fine.
  std::string dst = replaced(replaced(clean(), "input capture-filter;", "output capture-filter;"),
                             "source-address {", "destination-address {");
  EXPECT_EQ(has(check(dst), Severity::kWarning, "bound 'output'"), 0u);
}

TEST(Check, RateOneWithoutPolicerOnAHighSpeedInterface) {
  std::string xe = replaced_all(clean(), "t1-1/0/3:3", "xe-1/0/3");
  CheckResult r = check(xe);
  EXPECT_EQ(has(r, Severity::kWarning,
                "rate 1 mirrors every packet that term 0-capture matches on xe-1/0/3.0 (10 Gb/s "
                "Ethernet) with no policer"),
            1u);
  std::string policed =
      replaced(xe, "port-mirror;", "port-mirror;\n                    policer p;");
  EXPECT_EQ(has(check(policed), Severity::kWarning, "no policer"), 0u);
  std::string sampled = replaced(xe, "rate 1;", "rate 100;");
  EXPECT_EQ(has(check(sampled), Severity::kWarning, "no policer"), 0u);
  // A T1 is slow: a note, not a warning.
  CheckResult t1 = check(clean());
  EXPECT_EQ(has(t1, Severity::kWarning, "no policer"), 0u);
  EXPECT_EQ(has(t1, Severity::kNote, "(T1, 1.544 Mb/s)"), 1u);
}

TEST(Check, NextTermInTheLastTerm) {
  CheckResult r = check(replaced(clean(), "                then accept;\n            }\n        }",
                                 "                then next term;\n            }\n        }"));
  EXPECT_EQ(has(r, Severity::kError, "'next term' in the last term"), 1u);
  EXPECT_EQ(has(check(clean()), Severity::kError, "next term"), 0u);
}

TEST(Check, ExitCodes) {
  EXPECT_EQ(check(clean()).exit_code, 0);
  EXPECT_EQ(check(replaced(clean(), "port-mirror;", "count c;")).exit_code, 1);
  CheckResult value_error = check(replaced(clean(), "rate 1;", "rate 0;"));
  EXPECT_EQ(value_error.exit_code, 2);
  EXPECT_EQ(has(value_error, Severity::kNote, "recovered by indentation"), 0u)
      << "a value error is not a syntax error";
  CheckResult missing = check_files({"/nonexistent.conf"}, CheckOptions{});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(render_check(missing).find("cannot read"), std::string::npos);
}

TEST(Check, SeedSnippetsTogetherFindBothBracesAndTheSeedsMistakes) {
  CheckResult r =
      check_files({seed("router-1-gre-tunnel.conf"), seed("router-2-port-mirroring.conf"),
                   seed("router-3-filter.conf"), seed("router-4-mx-tunnel-services.conf")},
                  CheckOptions{});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count(r.diags, Severity::kError), 2u);
  EXPECT_EQ(has(r, Severity::kError, "'family inet' (opened at line 5) is never closed"), 1u);
  EXPECT_EQ(has(r, Severity::kError, "'then' (opened at line 30) is never closed"), 1u);
  EXPECT_EQ(has(r, Severity::kWarning, "run-length 1 is not supported"), 1u);
  EXPECT_EQ(has(r, Severity::kWarning, "gr-0/2/0 is on FPC 0 PIC 2, which has no tunnel-services"),
            1u);
  EXPECT_EQ(has(r, Severity::kWarning, "bound 'output' on t1-1/0/3:3.0"), 1u);
  ASSERT_EQ(r.collector_commands.size(), 1u);
  EXPECT_EQ(r.collector_commands[0],
            "portmirror capture --listen 192.168.51.20 --allow 192.168.50.10/32 -w mirror.pcapng");
  CheckResult lenient =
      check_files({seed("router-1-gre-tunnel.conf"), seed("router-2-port-mirroring.conf"),
                   seed("router-3-filter.conf"), seed("router-4-mx-tunnel-services.conf")},
                  CheckOptions{true, SyntaxForm::kAuto});
  EXPECT_EQ(lenient.exit_code, 1);
}

// The clean configuration's IPv6 twin: the filter bound under `family inet6`, the global instance
// with a `family inet6` output, an IPv6 static route in `rib inet6.0`.
std::string v6() {
  return R"(chassis {
    fpc 0 {
        pic 2 {
            tunnel-services {
                bandwidth 10g;
            }
        }
    }
}
interfaces {
    gr-0/2/0 {
        unit 100 {
            tunnel {
                source 192.168.50.10;
                destination 192.168.51.20;
                ttl 10;
            }
            family inet {
                address 172.16.28.1/30;
            }
        }
    }
    t1-1/0/3:3 {
        unit 0 {
            family inet6 {
                filter {
                    input capture6;
                }
                address 2001:db8:35::1/64;
            }
        }
    }
}
forwarding-options {
    port-mirroring {
        family inet6 {
            input {
                rate 1;
            }
            output {
                interface gr-0/2/0.100;
                no-filter-check;
            }
        }
    }
}
routing-options {
    rib inet6.0 {
        static {
            route 2001:db8:70::/48 next-hop 2001:db8:35::2;
        }
    }
}
firewall {
    family inet6 {
        filter capture6 {
            term 0-capture {
                from {
                    source-address {
                        2001:db8:70::/48;
                    }
                }
                then {
                    port-mirror;
                    accept;
                }
            }
            term 5-accept_all {
                then accept;
            }
        }
    }
}
)";
}

TEST(CheckInet6, CleanIpv6ConfigurationIsClean) {
  CheckResult r = check(v6());
  EXPECT_EQ(r.exit_code, 0) << render_check(r);
  EXPECT_EQ(has(r, Severity::kNote,
                "rate 1 mirrors every packet that term 0-capture matches on "
                "t1-1/0/3:3.0 (T1, 1.544 Mb/s)"),
            1u)
      << "the DoS rule sees the inet6 binding";
}

TEST(CheckInet6, Inet6FilterBoundNowhereOrBoundUnderTheWrongFamily) {
  std::string unbound = replaced(v6(), "input capture6;", "");
  CheckResult r = check(unbound);
  auto d = find_diags(r.diags, Severity::kWarning,
                      "filter capture6 (family inet6) is not bound to any interface");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_NE(d[0]->message.find("under the interface unit's 'family inet6'"), std::string::npos);
  // Bound, but the filter only exists in the other family: Junos wants a family inet6 filter.
  std::string other = replaced(v6(), "    family inet6 {\n        filter capture6",
                               "    family inet {\n        filter capture6");
  other = replaced(other, "2001:db8:70::/48;\n                    }",
                   "192.168.70.0/24;\n                    }");
  CheckResult r2 = check(other);
  auto e = find_diags(r2.diags, Severity::kError,
                      "filter capture6 bound input on t1-1/0/3:3.0 (family inet6) is not defined "
                      "under 'firewall'; there is a family inet filter capture6");
  ASSERT_EQ(e.size(), 1u) << render_check(r2);
  EXPECT_EQ(e[0]->location.line, 27);
  ASSERT_EQ(e[0]->notes.size(), 1u);
  EXPECT_NE(e[0]->notes[0].find("family inet filter capture6 is here"), std::string::npos);
  EXPECT_EQ(has(r2, Severity::kWarning, "filter capture6 is not bound to any interface"), 1u)
      << "the inet filter is bound nowhere";
  EXPECT_EQ(
      has(r2, Severity::kWarning,
          "(t1-1/0/3:3.0 names it under 'family inet6', which takes a family inet6 filter only)"),
      1u);
}

TEST(CheckInet6, OutputBindingMatchingSourcesRoutedThere) {
  CheckResult r = check(replaced(v6(), "input capture6;", "output capture6;"));
  auto d = find_diags(r.diags, Severity::kWarning,
                      "filter capture6 (family inet6) is bound 'output' on t1-1/0/3:3.0");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_NE(d[0]->message.find("2001:db8:70::/48 (static route 2001:db8:70::/48 next-hop "
                               "2001:db8:35::2 leaves through t1-1/0/3:3.0)"),
            std::string::npos)
      << d[0]->message;
  // The unit's own subnet, masked to its network.
  CheckResult own = check(replaced(replaced(v6(), "input capture6;", "output capture6;"),
                                   "2001:db8:70::/48;\n", "2001:db8:35::/64;\n"));
  EXPECT_EQ(has(own, Severity::kWarning,
                "2001:db8:35::/64 (the unit's own subnet, address 2001:db8:35::1/64)"),
            1u)
      << render_check(own);
  EXPECT_EQ(has(check(v6()), Severity::kWarning, "bound 'output'"), 0u);
}

TEST(CheckInet6, RateOneOnAHighSpeedIpv6Interface) {
  CheckResult r = check(replaced_all(v6(), "t1-1/0/3:3", "xe-1/0/3"));
  EXPECT_EQ(has(r, Severity::kWarning,
                "rate 1 mirrors every packet that term 0-capture matches on xe-1/0/3.0 (10 Gb/s "
                "Ethernet) with no policer"),
            1u)
      << render_check(r);
}

TEST(CheckInet6, InstanceWithoutTheFilterFamily) {
  CheckResult r = check(replaced(v6(), "        family inet6 {\n            input",
                                 "        family inet {\n            input"));
  EXPECT_EQ(has(r, Severity::kWarning,
                "term 0-capture of family inet6 filter capture6 mirrors to the global "
                "port-mirroring, which has no 'family inet6'"),
            1u)
      << render_check(r);
}

// Named instances and `chassis fpc N port-mirror-instance NAME` (protocols.md §4.1).
std::string named_instance(const std::string& chassis_extra) {
  std::string s = replaced(clean(), "port-mirror;", "port-mirror-instance M;");
  s = replaced(s, "        family inet {\n            input {",
               "        instance M {\n"
               "            family inet {\n"
               "                output {\n"
               "                    interface gr-0/2/0.100;\n"
               "                    no-filter-check;\n"
               "                }\n"
               "            }\n"
               "        }\n"
               "        family inet {\n"
               "            input {");
  return replaced(s, "    fpc 0 {\n        pic 2 {",
                  chassis_extra + "    fpc 0 {\n        pic 2 {");
}

TEST(Check, NamedInstanceNotBoundToTheFpc) {
  CheckResult r = check(named_instance(""));
  auto d = find_diags(r.diags, Severity::kWarning,
                      "port-mirroring instance M is used by term 0-capture of filter "
                      "capture-filter but no 'chassis fpc N port-mirror-instance M' binds it");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_NE(d[0]->message.find("on MX Series a named instance takes effect only when bound to the "
                               "FPC that carries the mirrored interface; add 'chassis fpc 1 "
                               "port-mirror-instance M' (FPC 1 carries t1-1/0/3:3.0)"),
            std::string::npos)
      << d[0]->message;
  EXPECT_EQ(d[0]->location.line, 77) << "at the term's port-mirror-instance";
  ASSERT_EQ(d[0]->notes.size(), 1u);
  EXPECT_NE(d[0]->notes[0].find("instance M is defined here"), std::string::npos);
  // Bound on FPC 1 (or one of its PICs): quiet.
  for (const char* ok :
       {"    fpc 1 {\n        port-mirror-instance M;\n    }\n",
        "    fpc 1 {\n        pic 0 {\n            port-mirror-instance M;\n        }\n    }\n"}) {
    CheckResult q = check(named_instance(ok));
    EXPECT_EQ(has(q, Severity::kWarning, "port-mirroring instance M"), 0u) << render_check(q);
  }
  // Bound, but on another FPC than the mirrored interface's.
  CheckResult wrong =
      check(named_instance("    fpc 0 {\n        port-mirror-instance M;\n    }\n"));
  auto w = find_diags(wrong.diags, Severity::kWarning,
                      "port-mirroring instance M is bound to FPC 0 only, but t1-1/0/3:3.0 (whose "
                      "filter uses it) is on FPC 1");
  ASSERT_EQ(w.size(), 1u) << render_check(wrong);
  EXPECT_EQ(w[0]->location.line, 8);
}

TEST(Check, ChassisBindingNamesAnUndefinedInstance) {
  CheckResult r = check(
      replaced(clean(), "        pic 2 {", "        port-mirror-instance GHOST;\n        pic 2 {"));
  auto d = find_diags(r.diags, Severity::kWarning,
                      "chassis fpc 0 port-mirror-instance GHOST: no port-mirroring instance GHOST "
                      "is configured");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_EQ(d[0]->location.line, 8);
  EXPECT_EQ(d[0]->location.column, 30);
}

TEST(Check, SpeedStatementDecidesTheRateOneRule) {
  // A T1 said to be 10g (as a channelised interface never is, but the statement wins).
  std::string fast = replaced(clean(), "        description Customer-A;\n",
                              "        description Customer-A;\n        speed 10g;\n");
  CheckResult r = check(fast);
  auto d = find_diags(r.diags, Severity::kWarning,
                      "rate 1 mirrors every packet that term 0-capture matches on t1-1/0/3:3.0 "
                      "(10 Gb/s) with no policer");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_NE(d[0]->message.find("(speed from the 'speed 10g' statement of t1-1/0/3:3)"),
            std::string::npos);
  ASSERT_EQ(d[0]->notes.size(), 1u);
  EXPECT_NE(d[0]->notes[0].find(":30:15: note: speed configured here"), std::string::npos)
      << d[0]->notes[0];
  // A ge- interface at 100m is slow: a note.
  std::string slow =
      replaced(replaced_all(clean(), "t1-1/0/3:3", "ge-1/0/3"), "        description Customer-A;\n",
               "        description Customer-A;\n        speed 100m;\n");
  CheckResult s = check(slow);
  EXPECT_EQ(has(s, Severity::kWarning, "no policer"), 0u);
  EXPECT_EQ(has(s, Severity::kNote, "on ge-1/0/3.0 (100 Mb/s); fine at low speed"), 1u)
      << render_check(s);
  // Without the statement, the message says the speed came from the name.
  EXPECT_EQ(has(check(clean()), Severity::kNote, "(speed judged from the interface name"), 1u);
}

TEST(Check, TermWithAnUndefinedPolicerIsAnError) {
  CheckResult r =
      check(replaced(clean(), "port-mirror;", "port-mirror;\n                    policer p;"));
  auto d = find_diags(r.diags, Severity::kError, "uses policer 'p', which is not defined");
  ASSERT_EQ(d.size(), 1u) << render_check(r);
  EXPECT_EQ(d[0]->location.line, 70);
  EXPECT_EQ(d[0]->location.column, 29);
  EXPECT_EQ(r.exit_code, 2);
  std::string defined =
      replaced(replaced(clean(), "port-mirror;", "port-mirror;\n                    policer p;"),
               "firewall {\n",
               "firewall {\n    policer p {\n        if-exceeding {\n"
               "            bandwidth-limit 1m;\n            burst-size-limit 15k;\n"
               "        }\n        then discard;\n    }\n");
  CheckResult ok = check(defined);
  EXPECT_EQ(ok.exit_code, 0) << render_check(ok);
}

}  // namespace

// `then port-mirror` on an FPC with a bound instance goes to that instance (PIC > FPC > global):
// check says so at the binding, counts the instance as used, and judges rate 1 by it.
TEST(Check, BoundInstanceTakesOverThenPortMirrorOnItsFpc) {
  std::string s = named_instance("    fpc 1 {\n        port-mirror-instance M;\n    }\n");
  s = replaced(s, "port-mirror-instance M;\n                    accept;",
               "port-mirror;\n                    accept;");
  CheckResult r = check(s);
  auto n = find_diags(r.diags, Severity::kNote,
                      "'then port-mirror' of filter capture-filter on t1-1/0/3:3.0 mirrors to "
                      "instance M bound here, not to the global port-mirroring");
  ASSERT_EQ(n.size(), 1u) << render_check(r);
  EXPECT_EQ(n[0]->location.line, 8) << "at the binding";
  EXPECT_EQ(has(r, Severity::kWarning, "port-mirroring instance M is configured but no"), 0u)
      << render_check(r);
}

}  // namespace portmirror::junos::test
