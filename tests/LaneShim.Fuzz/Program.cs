// Program.cs - `LaneShim.Fuzz [--inputs N] [--seed S] [--json]`: fuzzes the agent's decoding of broker replies.
// Exit 1 on a crash, unless --json (the report carries the crash count for the benchmark harness).
using LaneShim.Fuzz;

long inputs = 100_000;
int seed = 1;
bool json = false;
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
        case "--json":
            json = true;
            break;
        default:
            Console.Error.WriteLine($"LaneShim.Fuzz: unknown or incomplete argument '{args[i]}'; usage: LaneShim.Fuzz [--inputs N] [--seed S] [--json]");
            return 2;
    }
}

using var fuzzer = new ReplyFuzzer();
FuzzReport report = fuzzer.Run(seed, 0, inputs);
Console.WriteLine(json ? report.ToJson() : report.ToString());
foreach (string crash in report.CrashDetails)
{
    Console.Error.WriteLine(crash);
}
return report.Crashes == 0 || json ? 0 : 1;
