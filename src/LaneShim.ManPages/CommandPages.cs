// CommandPages.cs - the three pages: verbs and options from the CLI's own definitions, reference text from the README and docs/configuration.md.
using System.CommandLine;
using System.Text;

namespace LaneShim.ManPages;

/// <summary>Builds laneshim(1), laneshim-broker(8) and lanes.conf(5).</summary>
internal static class CommandPages
{
    private const string Date = "2026";

    /// <summary>laneshim(1): every verb with its options; the shim's configuration reference.</summary>
    public static string Laneshim(RootCommand root, MarkdownDocument readme, MarkdownDocument reference, string version)
    {
        var sb = Header("LANESHIM", 1, version, "laneshim", "run legacy data movers on tuned network lanes");
        sb.Append(".SH SYNOPSIS\n");
        foreach (Command verb in Visible(root))
        {
            sb.Append(@".B laneshim ").Append(Roff.Escape(verb.Name, minus: true)).Append('\n')
              .Append(Roff.Line(Roff.Escape(Usage(verb), minus: true))).Append("\n.br\n");
        }
        sb.Append(".SH DESCRIPTION\n").Append(Roff.Line(Roff.Inline(root.Description ?? ""))).Append('\n');
        sb.Append(Roff.Blocks(readme.Section("LaneShim").Split("\n## ")[0]));
        sb.Append(".SH COMMANDS\n");
        foreach (Command verb in Visible(root))
        {
            sb.Append(".SS ").Append(Roff.Escape(verb.Name, minus: true)).Append('\n')
              .Append(Roff.Line(Roff.Inline(verb.Description ?? ""))).Append('\n');
            if (verb.Name == "broker")
            {
                sb.Append(".PP\nSee \\fBlaneshim-broker\\fR(8) for its options.\n");
                continue;
            }
            Options(sb, verb);
        }
        sb.Append(".SH CONFIGURATION\n").Append(Roff.Blocks(reference.Section("The client: client.conf and LANESHIM_*")));
        sb.Append(".SS Which programs, and the kill switch\n").Append(Roff.Blocks(reference.Section("Which programs, and the kill switch")));
        sb.Append(".SH FILES\n");
        File(sb, "/etc/laneshim/client.conf", "The shim's configuration, read by every process that preloads it.");
        File(sb, "/etc/laneshim/disable", "The site-wide kill switch: while it exists the shim passes every call straight through.");
        File(sb, "/etc/ld.so.preload", "Lists the shim after `laneshim install --site`; `laneshim uninstall --site` takes it out.");
        File(sb, "/var/lib/laneshim/install/", "The record that lets `laneshim uninstall --site` put every file back as it was.");
        sb.Append(".SH SEE ALSO\n\\fBlaneshim-broker\\fR(8), \\fBlanes.conf\\fR(5), \\fBld.so\\fR(8)\n");
        return sb.ToString();
    }

    /// <summary>laneshim-broker(8): the broker verb's options, what it does, its signals and files.</summary>
    public static string Broker(RootCommand root, MarkdownDocument reference, string version)
    {
        Command broker = root.Subcommands.Single(c => c.Name == "broker");
        var sb = Header("LANESHIM-BROKER", 8, version, "laneshim-broker", "the LaneShim lane broker");
        sb.Append(".SH SYNOPSIS\n.B laneshim broker\n").Append(Roff.Line(Roff.Escape(Usage(broker), minus: true))).Append('\n');
        sb.Append(".SH DESCRIPTION\n").Append(Roff.Line(Roff.Inline(broker.Description ?? ""))).Append('\n');
        sb.Append(Roff.Blocks(reference.Section("The broker's flags")));
        sb.Append(".SH OPTIONS\n");
        Options(sb, broker);
        sb.Append(".SH SIGNALS\n");
        File(sb, "SIGHUP", "Reload the policy file, and the topology file as its next version (`systemctl reload laneshim-broker`). A file with a mistake is refused with file:line in the log; the one in force stays.");
        File(sb, "SIGTERM, SIGINT", "Stop: queued audit lines are written, then the broker exits.");
        sb.Append(".SH FILES\n");
        File(sb, "/etc/laneshim/lanes.conf", "The policy (lanes.conf(5)).");
        File(sb, "/run/laneshim/broker.sock", "The Unix socket the system broker listens on (mode 0666; the kernel says who asks).");
        File(sb, "/var/lib/laneshim/broker.db", "Leases and link usage that survive a restart (SQLite).");
        File(sb, "/var/log/laneshim/audit.jsonl", "One JSON line per decision.");
        File(sb, "/lib/systemd/system/laneshim-broker.service", "The sandboxed service that runs the system broker.");
        sb.Append(".SH SEE ALSO\n\\fBlaneshim\\fR(1), \\fBlanes.conf\\fR(5), \\fBsystemctl\\fR(1)\n");
        return sb.ToString();
    }

    /// <summary>lanes.conf(5): the policy file reference of docs/configuration.md.</summary>
    public static string PolicyFile(MarkdownDocument reference, string version)
    {
        var sb = Header("LANES.CONF", 5, version, "lanes.conf", "the LaneShim lane broker's policy");
        sb.Append(".SH DESCRIPTION\n.PP\n\\fB/etc/laneshim/lanes.conf\\fR maps flows to lane classes for \\fBlaneshim-broker\\fR(8). ");
        sb.Append("`systemctl reload laneshim-broker` (SIGHUP) reads it again.\n".Replace("`systemctl reload laneshim-broker`", @"\fBsystemctl reload laneshim\-broker\fR", StringComparison.Ordinal));
        sb.Append(Roff.Blocks(reference.Section("Policy file")));
        sb.Append(".SH SEE ALSO\n\\fBlaneshim-broker\\fR(8), \\fBlaneshim\\fR(1)\n");
        return sb.ToString();
    }

    private static StringBuilder Header(string title, int section, string version, string name, string summary)
    {
        var sb = new StringBuilder();
        sb.Append($".\\\" Generated by src/LaneShim.ManPages from the CLI's command definitions, README.md and docs/configuration.md; do not edit.\n");
        sb.Append($".TH {title} {section} \"{Date}\" \"LaneShim {version}\" \"LaneShim\"\n");
        sb.Append(".SH NAME\n").Append(Roff.Escape(name, minus: true)).Append(@" \- ").Append(summary).Append('\n');
        return sb;
    }

    private static IEnumerable<Command> Visible(Command command) => command.Subcommands.Where(c => !c.Hidden);

    private static string Usage(Command verb)
    {
        var parts = new List<string> { "[options]" };
        parts.AddRange(verb.Arguments.Where(a => !a.Hidden).Select(a => a.Name == "command" ? "-- command [args...]" : a.Name));
        return string.Join(' ', parts);
    }

    private static void Options(StringBuilder sb, Command verb)
    {
        foreach (Option option in verb.Options.Where(o => !o.Hidden))
        {
            string names = string.Join(", ", new[] { option.Name }.Concat(option.Aliases.Order(StringComparer.Ordinal)));
            bool flag = option.ValueType == typeof(bool);
            string value = flag ? "" : " " + (option.HelpName ?? "VALUE");
            sb.Append(".TP\n").Append(@"\fB").Append(Roff.Escape(names, minus: true)).Append(@"\fR");
            if (!flag)
            {
                sb.Append(@"\fI").Append(Roff.Escape(value, minus: true)).Append(@"\fR");
            }
            sb.Append('\n').Append(Roff.Line(Roff.Inline(option.Description ?? ""))).Append('\n');
        }
    }

    private static void File(StringBuilder sb, string name, string text) =>
        sb.Append(".TP\n").Append(@"\fB").Append(Roff.Escape(name, minus: true)).Append(@"\fR").Append('\n').Append(Roff.Line(Roff.Inline(text))).Append('\n');
}
