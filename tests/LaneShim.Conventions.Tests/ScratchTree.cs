// ScratchTree.cs - a throwaway directory tree holding copies of the repository's rule files and a few sample files.
using LaneShim.Testing;

namespace LaneShim.Conventions.Tests;

/// <summary>A temporary directory, deleted on dispose.</summary>
internal sealed class ScratchTree : IDisposable
{
    public ScratchTree() => Root = Directory.CreateTempSubdirectory("laneshim-conventions-").FullName;

    public string Root { get; }

    public void CopyFromRepo(params string[] files)
    {
        foreach (string file in files)
        {
            File.Copy(RepoPaths.File(file), Path.Combine(Root, file));
        }
    }

    public void Write(string relative, string text)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
