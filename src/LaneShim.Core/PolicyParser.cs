// PolicyParser.cs - reads the line-based policy language (class, rule, deny) and rejects mistakes with file:line.
using System.Globalization;

namespace LaneShim.Core;

/// <summary>
/// Parses policy text. Lines are <c>class NAME key=value...</c>, <c>rule matcher... -&gt; CLASS</c> and
/// <c>deny matcher... [reason="..."]</c>; '#' starts a comment. Classes may be defined anywhere in the file.
/// Every problem is collected; the exception's message is the first, as <c>file:line: what is wrong</c>.
/// </summary>
public static class PolicyParser
{
    private const string ClassKeys = "rate, rtt, fallback, cc, dscp, mark, priority, bulk, lowat, ttl, capacity, min_rate";
    private const string RuleKeys = "dst, port, program, uid, gid, user, group, principal, direction";

    /// <summary>Parses a whole policy file.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="fileName">The name used in error messages and decisions.</param>
    /// <exception cref="PolicyException">Something is wrong; the message reads <c>file:line: what is wrong</c>.</exception>
    public static Policy Parse(string text, string fileName) => Parse(text, fileName, accounts: null);

    /// <summary>Parses a whole policy file, resolving user and group names in <c>uid=</c>/<c>user=</c>/<c>gid=</c>/<c>group=</c> now.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="fileName">The name used in error messages and decisions.</param>
    /// <param name="accounts">Resolves names to ids (the broker passes the system's); null: names are an error.</param>
    /// <exception cref="PolicyException">Something is wrong, an unknown name included; the message reads <c>file:line: what is wrong</c>.</exception>
    public static Policy Parse(string text, string fileName, IAccountNames? accounts)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        string[] lines = text.Split('\n');
        var errors = new List<PolicyError>();
        var tokens = new List<PolicyToken>();
        var classes = new Dictionary<string, LaneClass>(StringComparer.Ordinal);
        var classLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var brokenClassLines = new Dictionary<string, int>(StringComparer.Ordinal);

        // Pass 1: classes, so rules may refer to classes defined further down.
        for (int i = 0; i < lines.Length; i++)
        {
            if (!Tokenize(lines[i], i + 1, fileName, tokens, errors) || tokens.Count == 0 || tokens[0].Text != "class")
            {
                continue;
            }

            try
            {
                (LaneClass laneClass, string name) = ParseClassLine(tokens);
                if (classLines.TryGetValue(name, out int first))
                {
                    throw new FormatException($"duplicate class '{name}' (first defined at line {first})");
                }

                classes[name] = laneClass;
                classLines[name] = i + 1;
            }
            catch (FormatException ex)
            {
                errors.Add(new PolicyError(fileName, i + 1, ex.Message));
                if (tokens.Count >= 2 && LaneClass.IsValidName(tokens[1].Text) && !classLines.ContainsKey(tokens[1].Text))
                {
                    brokenClassLines.TryAdd(tokens[1].Text, i + 1);
                }
            }
        }

        // Pass 2: rules in file order. Lines that failed to tokenize were reported in pass 1.
        var rules = new List<PolicyRule>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!PolicyLexer.TryTokenize(lines[i].TrimEnd('\r'), tokens, out _) || tokens.Count == 0 || tokens[0].Text == "class")
            {
                continue;
            }

            try
            {
                rules.Add(tokens[0].Text switch
                {
                    "rule" => ParseRuleLine(tokens, i + 1, deny: false, classes, classLines, brokenClassLines, accounts),
                    "deny" => ParseRuleLine(tokens, i + 1, deny: true, classes, classLines, brokenClassLines, accounts),
                    _ => throw new FormatException($"unknown directive '{tokens[0].Text}' (expected class, rule or deny)"),
                });
            }
            catch (FormatException ex)
            {
                errors.Add(new PolicyError(fileName, i + 1, ex.Message));
            }
        }

        if (errors.Count > 0)
        {
            throw new PolicyException(errors.OrderBy(e => e.Line).ToList());
        }

        return new Policy(fileName, classes.Values, rules);
    }

    private static bool Tokenize(string line, int lineNumber, string fileName, List<PolicyToken> tokens, List<PolicyError> errors)
    {
        if (PolicyLexer.TryTokenize(line.TrimEnd('\r'), tokens, out string? error))
        {
            return true;
        }

        errors.Add(new PolicyError(fileName, lineNumber, error));
        return false;
    }

    private static (LaneClass LaneClass, string Name) ParseClassLine(List<PolicyToken> tokens)
    {
        if (tokens.Count < 2)
        {
            throw new FormatException("class needs a name, e.g. class dmz rate=1gbit rtt=40ms");
        }

        string name = tokens[1].Text;
        if (name.Contains('='))
        {
            throw new FormatException($"class needs a name before its settings, e.g. class dmz {name}");
        }

        CheckClassName(name);
        return (BuildClass(name, tokens.Skip(2).Select(SplitKeyValue)), name);
    }

    private static void CheckClassName(string name)
    {
        if (!LaneClass.IsValidName(name))
        {
            throw new FormatException($"bad class name '{name}' (letters, digits, '_', '-', '.'; starting with a letter or digit; at most 64)");
        }
    }

    private static LaneClass BuildClass(string name, IEnumerable<KeyValuePair<string, string>> settings)
    {
        ulong? rate = null;
        RttMode? mode = null;
        TimeSpan rtt = default;
        TimeSpan? fallback = null;
        string congestion = string.Empty;
        int dscp = 0;
        uint mark = 0;
        int priority = 0;
        bool bulk = false;
        long lowat = 0;
        TimeSpan ttl = LaneClass.DefaultTtl;
        ulong capacity = 0;
        ulong minRate = LaneClass.DefaultMinRateBps;
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach ((string rawKey, string value) in settings)
        {
            string key = rawKey.ToLowerInvariant();
            if (!seen.Add(key))
            {
                throw new FormatException($"duplicate key '{key}'");
            }

            if (value.Length == 0 && key is "rate" or "rtt" or "fallback" or "cc" or "dscp" or "mark" or "priority" or "bulk" or "lowat" or "ttl" or "capacity" or "min_rate")
            {
                throw new FormatException($"{key}= needs a value");
            }

            switch (key)
            {
                case "rate":
                    rate = Units.TryParseRate(value, out ulong bps, out string rateError) ? bps : throw new FormatException(rateError);
                    if (bps == 0)
                    {
                        throw new FormatException("rate must be more than 0");
                    }

                    break;
                case "rtt":
                    if (string.Equals(value, "learn", StringComparison.OrdinalIgnoreCase))
                    {
                        mode = RttMode.Learn;
                    }
                    else
                    {
                        mode = RttMode.Fixed;
                        rtt = ParseRtt(key, value);
                    }

                    break;
                case "fallback":
                    fallback = ParseRtt(key, value);
                    break;
                case "cc":
                    congestion = ParseCongestion(value);
                    break;
                case "dscp":
                    dscp = ParseDscp(value);
                    break;
                case "mark":
                    mark = ParseMark(value);
                    break;
                case "priority":
                    priority = value.All(char.IsAsciiDigit) && value.Length <= 2 ? int.Parse(value, CultureInfo.InvariantCulture) : -1;
                    if (priority is < 0 or > LaneClass.MaxPriority)
                    {
                        throw new FormatException($"bad priority '{value}' (expected SO_PRIORITY 0-{LaneClass.MaxPriority}; above {LaneClass.MaxUnprivilegedPriority} the broker applies it)");
                    }

                    break;
                case "bulk":
                    bulk = ParseBool(key, value);
                    break;
                case "lowat":
                    lowat = Units.TryParseSize(value, out long bytes, out string sizeError) ? bytes : throw new FormatException(sizeError);
                    if (lowat > uint.MaxValue)
                    {
                        throw new FormatException($"lowat {value} is too large (at most {Units.FormatSize(uint.MaxValue)})");
                    }

                    break;
                case "ttl":
                    ttl = Units.TryParseDuration(value, out TimeSpan t, out string ttlError) ? t : throw new FormatException(ttlError);
                    if (ttl < LaneClass.MinTtl || ttl > LaneClass.MaxTtl)
                    {
                        throw new FormatException($"ttl {value} is out of range (1 s to 1 d)");
                    }

                    break;
                case "capacity":
                    capacity = ParsePositiveRate(key, value);
                    break;
                case "min_rate":
                    minRate = ParsePositiveRate(key, value);
                    break;
                default:
                    throw new FormatException($"unknown key '{rawKey}' for class (expected {ClassKeys})");
            }
        }

        if (rate is null)
        {
            throw new FormatException($"class '{name}' needs rate=<rate>, e.g. rate=1gbit");
        }

        if (mode is null)
        {
            throw new FormatException($"class '{name}' needs rtt=<duration> or rtt=learn");
        }

        if (fallback is not null && mode == RttMode.Fixed)
        {
            throw new FormatException("fallback= applies only with rtt=learn");
        }

        var laneClass = new LaneClass
        {
            Name = name,
            RateBps = rate.Value,
            RttMode = mode.Value,
            Rtt = mode == RttMode.Fixed ? rtt : fallback ?? LaneClass.DefaultFallbackRtt,
            Congestion = congestion,
            Dscp = dscp,
            Mark = mark,
            Priority = priority,
            Bulk = bulk,
            NotsentLowat = lowat,
            Ttl = ttl,
            CapacityBps = capacity,
            MinRateBps = minRate,
        };
        return laneClass.Validate() is string problem ? throw new FormatException(problem) : laneClass;
    }

    private static ulong ParsePositiveRate(string key, string value)
    {
        ulong bps = Units.TryParseRate(value, out ulong parsed, out string error) ? parsed : throw new FormatException($"{key}: {error}");
        return bps > 0 ? bps : throw new FormatException($"{key} must be more than 0");
    }

    private static PolicyRule ParseRuleLine(
        List<PolicyToken> tokens,
        int line,
        bool deny,
        Dictionary<string, LaneClass> classes,
        Dictionary<string, int> classLines,
        Dictionary<string, int> brokenClassLines,
        IAccountNames? accounts)
    {
        foreach (PolicyToken token in tokens)
        {
            if (!token.Quoted && token.Text != "->" && token.Text.Contains("->"))
            {
                throw new FormatException($"put spaces around '->' in '{token.Text}'");
            }
        }

        int arrow = tokens.FindIndex(t => !t.Quoted && t.Text == "->");
        LaneClass? laneClass = null;
        if (deny)
        {
            if (arrow >= 0)
            {
                throw new FormatException("deny takes no '-> <class>'; give a reason=\"...\" instead");
            }
        }
        else
        {
            if (arrow < 0)
            {
                throw new FormatException("rule needs '-> <class>' at the end");
            }

            List<PolicyToken> after = tokens.GetRange(arrow + 1, tokens.Count - arrow - 1);
            if (after.Count == 0)
            {
                throw new FormatException("missing class name after '->'");
            }

            if (after.Count > 1)
            {
                throw new FormatException($"unexpected '{after[1].Text}' after '-> {after[0].Text}'");
            }

            string className = after[0].Text;
            if (!classes.TryGetValue(className, out laneClass) && brokenClassLines.TryGetValue(className, out int brokenLine))
            {
                throw new FormatException($"class '{className}' is unusable: its definition on line {brokenLine} has errors");
            }

            if (laneClass is null)
            {
                string known = classLines.Count == 0 ? "no classes are defined" : "defined: " + string.Join(", ", classLines.OrderBy(c => c.Value).Select(c => c.Key));
                throw new FormatException($"undefined class '{className}' ({known})");
            }
        }

        IReadOnlyList<Cidr>? destinations = null;
        IReadOnlyList<PortRange>? ports = null;
        IReadOnlyList<ProgramPattern>? programs = null;
        IReadOnlyList<IdRange>? uids = null;
        IReadOnlyList<IdRange>? gids = null;
        IReadOnlyList<FlowDirection>? directions = null;
        IReadOnlyList<PrincipalPattern>? principals = null;
        string? reason = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int end = arrow < 0 ? tokens.Count : arrow;

        for (int t = 1; t < end; t++)
        {
            (string rawKey, string value) = SplitKeyValue(tokens[t]);
            string key = rawKey.ToLowerInvariant() switch
            {
                // user= and group= are uid= and gid= by another name: one of each per line.
                "user" => "uid",
                "group" => "gid",
                string k => k,
            };
            if (!seen.Add(key))
            {
                throw new FormatException($"duplicate key '{rawKey.ToLowerInvariant()}'{(key != rawKey.ToLowerInvariant() ? $" (same as {key}=)" : "")}");
            }

            switch (key)
            {
                case "principal":
                    principals = Items(key, value).Select(p => PrincipalPattern.TryParse(p, out PrincipalPattern? r, out string e) ? r! : throw new FormatException(e)).ToList();
                    break;
                case "dst":
                    destinations = Items(key, value).SelectMany(ParseDestination).ToList();
                    break;
                case "port":
                    ports = Items(key, value).Select(p => PortRange.TryParse(p, out PortRange r, out string e) ? r : throw new FormatException(e)).ToList();
                    break;
                case "program":
                    programs = Items(key, value).Select(ParseProgram).ToList();
                    break;
                case "uid":
                case "gid":
                    List<IdRange> ids = Items(key, value).Select(v => ParseId(v, key, accounts)).ToList();
                    if (key == "uid")
                    {
                        uids = ids;
                    }
                    else
                    {
                        gids = ids;
                    }

                    break;
                case "direction":
                    directions = Items(key, value).Select(ParseDirection).ToList();
                    break;
                case "reason" when deny:
                    reason = value.Length > 0 ? value : throw new FormatException("reason= needs text, e.g. reason=\"not to the printers\"");
                    break;
                default:
                    throw new FormatException($"unknown key '{rawKey}' for {(deny ? "deny" : "rule")} (expected {RuleKeys}{(deny ? ", reason" : "")})");
            }
        }

        return new PolicyRule
        {
            Line = line,
            Action = deny ? RuleAction.Deny : RuleAction.Grant,
            LaneClass = laneClass,
            DenyReason = deny ? reason ?? "denied by policy" : null,
            Destinations = destinations,
            Ports = ports,
            Programs = programs,
            Uids = uids,
            Gids = gids,
            Directions = directions,
            Principals = principals,
        };
    }

    // A number or range as before; a name (starting with a letter or '_') is looked up now, so a typo fails the load.
    private static IdRange ParseId(string item, string key, IAccountNames? accounts)
    {
        if (item.Length > 0 && (char.IsAsciiLetter(item[0]) || item[0] == '_') && accounts is not null)
        {
            string kind = key == "uid" ? "user" : "group";
            if (!AccountNames.IsValidName(item))
            {
                throw new FormatException($"bad {kind} name '{item}'");
            }

            uint? id = key == "uid" ? accounts.UserId(item) : accounts.GroupId(item);
            return id is uint found
                ? new IdRange(found, found)
                : throw new FormatException($"unknown {kind} '{item}' (not in {(key == "uid" ? "the passwd database" : "the group database")}; give the number or create the {kind})");
        }

        return IdRange.TryParse(item, key, out IdRange range, out string error) ? range : throw new FormatException(error);
    }

    private static KeyValuePair<string, string> SplitKeyValue(PolicyToken token)
    {
        int eq = token.Text.IndexOf('=');
        if (eq <= 0)
        {
            throw new FormatException($"expected key=value, got '{token.Text}'");
        }

        return new(token.Text[..eq], token.Text[(eq + 1)..]);
    }

    private static string[] Items(string key, string value)
    {
        if (value.Length == 0)
        {
            throw new FormatException($"{key}= needs a value");
        }

        string[] items = value.Split(',');
        if (items.Any(i => i.Trim().Length == 0))
        {
            throw new FormatException($"empty item in '{key}={value}'");
        }

        return items.Select(i => i.Trim()).ToArray();
    }

    private static IEnumerable<Cidr> ParseDestination(string item)
    {
        if (string.Equals(item, "any", StringComparison.OrdinalIgnoreCase))
        {
            return [Cidr.AnyIPv4, Cidr.AnyIPv6];
        }

        return Cidr.TryParse(item, out Cidr? cidr, out string error) ? [cidr] : throw new FormatException(error);
    }

    private static ProgramPattern ParseProgram(string item)
    {
        if (item.Contains('/') && item[0] is not '/' and not '*')
        {
            throw new FormatException($"program '{item}': a path pattern must start with '/' or '*' (or give a bare name to match the basename)");
        }

        return new ProgramPattern(item);
    }

    private static FlowDirection ParseDirection(string item) => item.ToLowerInvariant() switch
    {
        "out" or "outbound" => FlowDirection.Outbound,
        "in" or "inbound" => FlowDirection.Inbound,
        "listen" => FlowDirection.Listen,
        _ => throw new FormatException($"bad direction '{item}' (expected out, in or listen)"),
    };

    private static TimeSpan ParseRtt(string key, string value)
    {
        if (!Units.TryParseDuration(value, out TimeSpan rtt, out string error))
        {
            throw new FormatException(error);
        }

        if (rtt <= TimeSpan.Zero || rtt > LaneClass.MaxRtt)
        {
            throw new FormatException($"{key} {value} is out of range (more than 0, at most 10 s)");
        }

        return rtt;
    }

    private static string ParseCongestion(string value)
    {
        if (string.Equals(value, "default", StringComparison.OrdinalIgnoreCase))
        {
            return string.Empty;
        }

        if (!LaneClass.IsValidCongestionName(value))
        {
            throw new FormatException($"bad cc '{value}' (a kernel congestion control name such as cubic or bbr, at most 15 characters)");
        }

        return value;
    }

    private static int ParseDscp(string value)
    {
        string v = value.ToLowerInvariant();
        int? dscp = v switch
        {
            "default" or "be" => 0,
            "le" => 1,
            "ef" => 46,
            _ when v.Length == 3 && v.StartsWith("cs", StringComparison.Ordinal) && v[2] is >= '0' and <= '7' => (v[2] - '0') * 8,
            _ when v.Length == 4 && v.StartsWith("af", StringComparison.Ordinal) && v[2] is >= '1' and <= '4' && v[3] is >= '1' and <= '3'
                => ((v[2] - '0') * 8) + ((v[3] - '0') * 2),
            _ when v.Length is >= 1 and <= 2 && v.All(char.IsAsciiDigit) => int.Parse(v, CultureInfo.InvariantCulture),
            _ => null,
        };
        return dscp is >= 0 and <= 63
            ? dscp.Value
            : throw new FormatException($"bad dscp '{value}' (expected 0-63 or a name such as ef, af41, cs1)");
    }

    private static uint ParseMark(string value)
    {
        uint mark = 0;
        bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? value.Length is > 2 and <= 10 && uint.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mark)
            : value.All(char.IsAsciiDigit) && uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out mark);
        return ok ? mark : throw new FormatException($"bad mark '{value}' (expected a 32-bit number such as 16 or 0x10)");
    }

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "yes" or "true" or "on" or "1" => true,
        "no" or "false" or "off" or "0" => false,
        _ => throw new FormatException($"bad {key} '{value}' (expected yes or no)"),
    };
}
