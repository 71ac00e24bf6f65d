// BenchSuite.cs - a group of figures measured together (they share a setup such as a namespace pair or a broker).
namespace LaneShim.Lab.Bench;

/// <summary>One group of benchmarks. The figures <see cref="Expected"/> lists are reported as missing if <see cref="Run"/> fails.</summary>
internal abstract class BenchSuite
{
    /// <summary>The name `--only` selects the suite by.</summary>
    public abstract string Key { get; }

    /// <summary>Every figure the suite reports, with unit and target, so a failed run still lists them.</summary>
    public abstract IReadOnlyList<BenchResult> Expected(BenchContext context);

    public abstract IReadOnlyList<BenchResult> Run(BenchContext context);
}
