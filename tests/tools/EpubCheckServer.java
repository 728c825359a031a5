// EPUBCheck for the tests: one Java process a test worker, reading "REPORT.json<TAB>FILE.epub"
// lines on its standard input and answering each with a line once the report is written.
// EPUBCheck compiles its schemas on first use (seconds on a slow machine); a process that
// stays up pays that once, not once a test.
// Usage: java -cp epubcheck.jar EpubCheckServer.java
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

public class EpubCheckServer {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] job = line.split("\t", 2);
      new EpubChecker().run(new String[] {job[1], "--json", job[0], "-q"});
      System.out.println("done");
      System.out.flush();
    }
  }
}
