// DemoChart.cs - throughput.png: goodput per mover and mode as clustered bars, with the lane's line rate marked, drawn by gnuplot.
using System.Globalization;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>Writes the data and a gnuplot script to the work directory and renders the PNG (Debian package gnuplot-nox).</summary>
internal static class DemoChart
{
    public const string GnuplotPackage = "gnuplot-nox";

    /// <summary>Renders the chart; returns null on success, otherwise why there is no chart.</summary>
    public static string? Render(DemoReport report, IReadOnlyList<Mover> movers, string workDirectory, string png)
    {
        string gnuplot;
        try
        {
            gnuplot = LabTools.Find("gnuplot", GnuplotPackage);
        }
        catch (LabException e)
        {
            return e.Message;
        }
        string data = Path.Combine(workDirectory, "throughput.dat");
        var rows = new List<string> { "# mover plain laneshim hand-tuned (Mbit/s; NaN: not run or failed)" };
        foreach (Mover mover in movers)
        {
            rows.Add($"\"{mover.Name}\" {Value(report, mover, DemoMode.Plain)} {Value(report, mover, DemoMode.Laneshim)} {Value(report, mover, DemoMode.HandTuned)}");
        }
        File.WriteAllLines(data, rows);
        string line = report.LineRateMbps.ToString("F0", CultureInfo.InvariantCulture);
        string script = Path.Combine(workDirectory, "throughput.gp");
        File.WriteAllText(script, $$"""
            # gnuplot script of `laneshim-lab demo`
            set terminal pngcairo size 1400,650 noenhanced
            set output '{{png}}'
            set title "Legacy data movers over a {{line}} Mbit/s, {{report.RttMs.ToString("F1", CultureInfo.InvariantCulture)}} ms lane: plain, under laneshim run, hand-tuned"
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.9 border -1
            set boxwidth 0.9
            set datafile missing "NaN"
            set ylabel "goodput (Mbit/s)"
            set yrange [0:{{(report.LineRateMbps * 1.15).ToString("F0", CultureInfo.InvariantCulture)}}]
            set grid ytics
            set key outside top center horizontal
            set arrow from graph 0, first {{line}} to graph 1, first {{line}} nohead dashtype 2 linewidth 1.5 linecolor rgb "black"
            set label "lane line rate {{line}} Mbit/s" at graph 0.99, first {{line}} right offset 0,0.8
            # three bars per cluster, gap 1: each bar is 1/4 wide, centred at x-0.25, x, x+0.25
            plot '{{data}}' using 2:xtic(1) title "plain" linecolor rgb "#9e9e9e", \
                 '' using 3 title "laneshim" linecolor rgb "#1f77b4", \
                 '' using 4 title "hand-tuned" linecolor rgb "#ff7f0e", \
                 '' using ($0-0.25):2:(sprintf("%.0f", $2)) with labels font ",9" offset 0,0.6 notitle, \
                 '' using 0:3:(sprintf("%.0f", $3)) with labels font ",9" offset 0,0.6 notitle, \
                 '' using ($0+0.25):4:(sprintf("%.0f", $4)) with labels font ",9" offset 0,0.6 notitle

            """);
        ToolOutput r = LabTools.Run(gnuplot, [script], deadline: TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0 || !File.Exists(png))
        {
            return $"gnuplot failed ({(r.ExitCode is null ? "did not finish" : $"exit {r.ExitCode}")}): {r.Stderr.Trim()}";
        }
        return null;
    }

    private static string Value(DemoReport report, Mover mover, DemoMode mode) =>
        report.Find(mover.Name, mode) is { Ok: true } run ? run.Mbps.ToString("F1", CultureInfo.InvariantCulture) : "NaN";
}
