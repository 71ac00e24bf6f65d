// HabitsTests.cs - the habits ./build.sh enforces, shown failing: a misformatted C or C# file fails `./build.sh lint`
// (which `./build.sh test` runs), and a public type without XML docs in a src/ project fails the build.
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Conventions.Tests;

[TestClass]
public sealed class HabitsTests
{
    private const string FormattedC = "/* one.c - a formatted file. */\nint one(int x)\n{\n\tif (x > 0)\n\t\treturn 1;\n\treturn 0;\n}\n";
    private const string MisformattedC = "/* one.c - a misformatted file. */\nint one(int x) {\n  if (x>0) return 1;\n  return 0;\n}\n";
    private const string FormattedCs = "// One.cs - a formatted file.\nnamespace Sample;\n\n/// <summary>One.</summary>\npublic static class One\n{\n    /// <summary>One or zero.</summary>\n    public static int Of(int x)\n    {\n        return x > 0 ? 1 : 0;\n    }\n}\n";
    private const string MisformattedCs = "// One.cs - a misformatted file.\nnamespace Sample;\n\n/// <summary>One.</summary>\npublic static class One {\n  /// <summary>One or zero.</summary>\n  public static int Of(int x) { return x > 0 ? 1 : 0; }\n}\n";
    private const string Project = "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <PropertyGroup>\n    <TargetFramework>net10.0</TargetFramework>\n  </PropertyGroup>\n</Project>\n";

    [TestMethod]
    public void Lint_PassesOnFormattedFiles_FailsOnAMisformattedCFile_AndOnAMisformattedCSharpFile()
    {
        using var tree = new ScratchTree();
        tree.CopyFromRepo(".clang-format", ".editorconfig");
        tree.Write("src/one.c", FormattedC);
        tree.Write("Sample.csproj", Project);
        tree.Write("One.cs", FormattedCs);

        ProcessResult clean = Lint(tree.Root);
        Assert.AreEqual(0, clean.ExitCode, "formatted files must pass\n" + clean.Describe());

        tree.Write("src/one.c", MisformattedC);
        ProcessResult badC = Lint(tree.Root);
        Assert.AreNotEqual(0, badC.ExitCode, "a misformatted C file must fail lint\n" + badC.Describe());
        StringAssert.Contains(badC.Stderr, "one.c");
        StringAssert.Contains(badC.Stderr, "lint: C files differ from .clang-format");

        tree.Write("src/one.c", FormattedC);
        tree.Write("One.cs", MisformattedCs);
        ProcessResult badCs = Lint(tree.Root);
        Assert.AreNotEqual(0, badCs.ExitCode, "a misformatted C# file must fail lint\n" + badCs.Describe());
        StringAssert.Contains(badCs.Stdout + badCs.Stderr, "One.cs");
        StringAssert.Contains(badCs.Stderr, "lint: C# files differ from .editorconfig");
    }

    [TestMethod]
    public void Build_OfASrcProject_FailsOnAPublicTypeWithoutXmlDocs_ATestProjectDoesNot()
    {
        using var tree = new ScratchTree();
        tree.CopyFromRepo("Directory.Build.props", "Directory.Packages.props", ".editorconfig");
        tree.Write("src/Sample/Sample.csproj", Project);
        tree.Write("src/Sample/One.cs", "// One.cs - undocumented.\nnamespace Sample;\n\npublic static class One\n{\n    public static int Of(int x) => x > 0 ? 1 : 0;\n}\n");
        tree.Write("tests/Sample.Tests/Sample.Tests.csproj", Project);
        tree.Write("tests/Sample.Tests/One.cs", "// One.cs - undocumented, and tests need not be.\nnamespace Sample.Tests;\n\npublic static class One\n{\n    public static int Of(int x) => x > 0 ? 1 : 0;\n}\n");

        ProcessResult src = Build(tree, "src/Sample/Sample.csproj");
        Assert.AreNotEqual(0, src.ExitCode, "an undocumented public type in src/ must fail the build\n" + src.Describe());
        StringAssert.Contains(src.Stdout, "error CS1591");

        ProcessResult tests = Build(tree, "tests/Sample.Tests/Sample.Tests.csproj");
        Assert.AreEqual(0, tests.ExitCode, "tests are exempt\n" + tests.Describe());

        tree.Write("src/Sample/One.cs", FormattedCs);
        ProcessResult documented = Build(tree, "src/Sample/Sample.csproj");
        Assert.AreEqual(0, documented.ExitCode, "documented, it builds\n" + documented.Describe());
    }

    private static ProcessResult Lint(string dir) =>
        ProcessRunner.Run(RepoPaths.File("build.sh"), ["lint", dir], timeout: TimeSpan.FromMinutes(5));

    private static ProcessResult Build(ScratchTree tree, string project) =>
        ProcessRunner.Run("dotnet", ["build", Path.Combine(tree.Root, project), "-c", "Release", "-nologo", "-v", "quiet"], timeout: TimeSpan.FromMinutes(5));
}
