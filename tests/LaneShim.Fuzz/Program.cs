// Program.cs - `LaneShim.Fuzz [--inputs N] [--seed S] [--first I] [--mode wire|httpclient|both] [--json]`: fuzzes the agent's decoding of broker replies.
// Exit 1 on a crash, unless --json (the report carries the crash count for the benchmark harness).
using LaneShim.Fuzz;

const string Usage = "usage: LaneShim.Fuzz [--inputs N] [--seed S] [--first I] [--mode wire|httpclient|both] [--json]";
long inputs = 100_000;
long first = 0;
int seed = 1;
bool json = false;
FuzzMode[] modes = [FuzzMode.Wire];
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--inputs" when i + 1 < args.Length && long.TryParse(args[i + 1], out long n) && n > 0:
            inputs = n;
            i++;
            break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out int s):
            seed = s;
            i++;
            break;
        case "--first" when i + 1 < args.Length && long.TryParse(args[i + 1], out long f) && f >= 0:
            first = f;
            i++;
            break;
        case "--mode" when i + 1 < args.Length && args[i + 1] is "wire" or "httpclient" or "both":
            modes = args[i + 1] switch
            {
                "wire" => [FuzzMode.Wire],
                "httpclient" => [FuzzMode.HttpClient],
                _ => [FuzzMode.Wire, FuzzMode.HttpClient],
            };
            i++;
            break;
        case "--json":
            json = true;
            break;
        default:
            Console.Error.WriteLine($"LaneShim.Fuzz: unknown or incomplete argument '{args[i]}'; {Usage}");
            return 2;
    }
}

// Each mode gets the same N inputs (the same FuzzCases, delivered differently).
using var fuzzer = new ReplyFuzzer();
FuzzReport report = FuzzReport.Combine([.. modes.Select(mode => fuzzer.Run(seed, first, inputs, mode))]);
Console.WriteLine(json ? report.ToJson() : report.ToString());
foreach (FuzzReport part in report.Parts)
{
    Console.Error.WriteLine(part);
}
foreach (string crash in report.CrashDetails)
{
    Console.Error.WriteLine(crash);
}
return report.Crashes == 0 || json ? 0 : 1;
