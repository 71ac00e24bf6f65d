// SiteFiles.cs - the text of the files a site install writes: client.conf and lanes.conf examples and the broker's systemd unit.
namespace LaneShim.Cli.Site;

/// <summary>File contents for a site install.</summary>
internal static class SiteFiles
{
    /// <summary>/etc/laneshim/client.conf, written only when absent. The agent needs no line: the shim finds it next to itself.</summary>
    public const string ClientConfig = """
        # /etc/laneshim/client.conf - read by the LaneShim shim in every process (written by `laneshim install --site`).
        # `key = value` lines; LANESHIM_* environment variables override them (not in setuid programs). See README, Configuration reference.
        broker = unix:/run/laneshim/broker.sock
        # deadline_ms = 20
        # log = off
        # exclude = 192.0.2.0/24
        # disable = yes

        """;

    /// <summary>/etc/laneshim/lanes.conf, written only when absent: one modest class for every flow until the site writes its own.</summary>
    public const string Policy = """
        # /etc/laneshim/lanes.conf - the lane broker's policy (written by `laneshim install --site`). See README, Policy file.
        # Until you edit it, every outbound flow gets one lane class sized for a 1 Gbit/s, 20 ms path.
        class default rate=1gbit rtt=20ms
        rule -> default

        """;

    /// <summary>
    /// The broker's unit. LANESHIM_DISABLE keeps the shim (preloaded site-wide) out of the broker itself; the
    /// hardening leaves what enforcement needs: CAP_NET_ADMIN (nftables, SO_MARK), CAP_SYS_ADMIN (entering router
    /// namespaces), CAP_SYS_PTRACE (reading callers' /proc entries); RuntimeDirectory creates /run/laneshim for the socket.
    /// </summary>
    public const string Unit = """
        # laneshim-broker.service - the LaneShim lane broker (written by `laneshim install --site`; `laneshim uninstall --site` removes it).
        [Unit]
        Description=LaneShim lane broker
        Documentation=file:///usr/local/lib/laneshim/cli
        After=network-online.target
        Wants=network-online.target

        [Service]
        Type=simple
        ExecStart=/usr/local/bin/laneshim broker --listen unix:/run/laneshim/broker.sock --policy /etc/laneshim/lanes.conf
        Environment=LANESHIM_DISABLE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
        RuntimeDirectory=laneshim
        RuntimeDirectoryMode=0755
        Restart=on-failure
        RestartSec=2
        CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_NET_RAW
        NoNewPrivileges=yes
        ProtectSystem=strict
        ProtectHome=yes
        PrivateTmp=yes
        ProtectKernelModules=yes
        ProtectControlGroups=yes
        RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
        LockPersonality=yes

        [Install]
        WantedBy=multi-user.target

        """;
}
