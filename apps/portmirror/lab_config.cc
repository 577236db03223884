// The seed's router configuration, corrected: the two missing braces of router-3-filter.conf
// (`family inet` under t1-1/0/3:3 unit 0, and `then` in term 0-capture) are closed, the `...`
// elisions are dropped, and `capture-filter` is bound `input` instead of `output` (see below).
#include "apps/portmirror/lab_config.h"

#include <fmt/core.h>

namespace portmirror::app::lab {

namespace {

// {rate} and {run_length} are fmt replacement fields; literal braces are doubled.
constexpr const char* kTemplate =
    R"(# portmirror lab: the seed's router configuration (shared/seed/router-*.conf), corrected.
# 1. router-1-gre-tunnel.conf: the GRE tunnel to the capture server, as in the seed.
interfaces {{
    gr-0/2/0 {{
        unit 100 {{
            tunnel {{
                source 192.168.50.10;
                destination 192.168.51.20;
                ttl 10;
            }}
            family inet {{
                address 172.16.28.1/30;
            }}
        }}
    }}
    # 3. router-3-filter.conf: the customer interface. The seed binds capture-filter as
    # `output`, yet the filter matches packets FROM 192.168.70.0/24 and the static route
    # sends 192.168.70.0/24 out of this very interface: traffic leaving toward the customer
    # does not come from the customer. The seed's captures show 192.168.70.5 -> 10.0.45.8,
    # i.e. traffic the router receives here, so the filter is bound `input`.
    t1-1/0/3:3 {{
        description Customer-A;
        unit 0 {{
            family inet {{
                filter {{
                    input capture-filter;
                }}
                address 192.168.35.1/30;
            }}
        }}
    }}
}}
# 2. router-2-port-mirroring.conf: sampling and the mirror destination.
forwarding-options {{
    port-mirroring {{
        family inet {{
            input {{
                rate {rate};
                run-length {run_length};
            }}
            output {{
                interface gr-0/2/0.100;
                no-filter-check;
            }}
        }}
    }}
}}
routing-options {{
    static {{
        route 192.168.70.0/24 next-hop 192.168.35.2;
    }}
}}
firewall {{
    family inet {{
        filter capture-filter {{
            term 0-capture {{
                from {{
                    source-address {{
                        192.168.70.0/24;
                        192.168.35.0/30;
                    }}
                }}
                then {{
                    port-mirror;
                    accept;
                }}
            }}
            term 5-accept_all {{
                then accept;
            }}
        }}
    }}
}}
# 4. router-4-mx-tunnel-services.conf (chassis fpc/pic tunnel-services) only applies to MX DPCs
# and names another PIC (gr-0/3/10); this software router needs no tunnel PIC, so it is left out.
)";

}  // namespace

std::string default_router_config(std::uint32_t rate, std::uint32_t run_length) {
  return fmt::format(kTemplate, fmt::arg("rate", rate), fmt::arg("run_length", run_length));
}

const char* default_config_corrections() {
  return "router-3-filter.conf: closed `family inet` (t1-1/0/3:3 unit 0) and `then` (term "
         "0-capture), dropped the `...` elisions; capture-filter bound `input` instead of "
         "`output` (the filter matches traffic FROM the customer, which enters the router on "
         "t1-1/0/3:3); router-4 (MX tunnel-services) left out";
}

}  // namespace portmirror::app::lab
