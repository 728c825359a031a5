// Runs EPUBCheck on several EPUB files in one Java process (one JVM start, not one per file).
// Usage: java -cp epubcheck.jar EpubCheckBatch.java REPORT_DIR FILE.epub...
// Writes REPORT_DIR/<n>.json, EPUBCheck's JSON report for the n-th file (1-based).
import com.adobe.epubcheck.tool.EpubChecker;

public class EpubCheckBatch {
  public static void main(String[] args) throws Exception {
    for (int i = 1; i < args.length; i++) {
      new EpubChecker().run(new String[] {args[i], "--json", args[0] + "/" + i + ".json", "-q"});
    }
  }
}
