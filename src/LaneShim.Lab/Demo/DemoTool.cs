// DemoTool.cs - a program a mover needs and the Debian package that ships it.
namespace LaneShim.Lab.Demo;

/// <summary>An absolute program path and its Debian package (build.sh's DEB_PACKAGES installs it).</summary>
internal sealed record DemoTool(string Path, string Package)
{
    public bool Installed => File.Exists(Path);
}
