// SafeDelete.cs - removes a directory tree without ever following a symbolic link out of it.
namespace LaneShim.Lab.Demo;

/// <summary>
/// Servers leave symbolic links in their directories (xrootd's admin path links to its working directory, "/", and
/// to /proc/PID). This walks the tree itself: a link is unlinked, never entered, so nothing outside the tree is touched.
/// </summary>
internal static class SafeDelete
{
    /// <summary>Deletes <paramref name="path"/> and everything under it; a link at any level is removed as a link.</summary>
    public static void Tree(string path)
    {
        var root = new DirectoryInfo(path);
        if (root.LinkTarget is not null)
        {
            root.Delete(); // the link itself
            return;
        }
        if (!root.Exists)
        {
            return;
        }
        Contents(root);
        root.Delete();
    }

    /// <summary>Deletes everything inside <paramref name="path"/>, keeping the directory.</summary>
    public static void Contents(string path) => Contents(new DirectoryInfo(path));

    private static void Contents(DirectoryInfo dir)
    {
        foreach (FileSystemInfo entry in dir.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
        {
            if (entry is DirectoryInfo sub && entry.LinkTarget is null)
            {
                Contents(sub);
                sub.Delete();
            }
            else
            {
                File.Delete(entry.FullName); // a file, socket, fifo, or a link (to a file or a directory)
            }
        }
    }
}
