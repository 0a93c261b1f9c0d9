// SPDX-License-Identifier: MIT
//
// Apache OpenNLP side of bench/tagger/run.sh: trains OpenNLP's POS tagger or name finder with
// its default parameters (maxent, 100 iterations, cutoff 5) on the same files micronlp trains
// on, saves the model (size), tags each test file in process (tokens/s on one thread, after one
// warm-up pass) and writes "token<TAB>gold<TAB>predicted" lines for the shared scorer.
//
//   java -cp opennlp-tools.jar:. OpenNlpBench pos|ner TRAIN MODEL_OUT TEST PRED_OUT [TEST PRED_OUT...]
//
// TRAIN/TEST: pos = Brown "word/tag" lines; ner = "token<TAB>BIO-label" with blank lines.
// Prints "train_sec=... model_bytes=..." then per test file "test=i tag_sec=... tokens=...".
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import opennlp.tools.namefind.*;
import opennlp.tools.postag.*;
import opennlp.tools.util.*;

public class OpenNlpBench {
    static List<String[][]> readPos(String path) throws IOException {
        List<String[][]> out = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8)) {
            line = line.trim();
            if (line.isEmpty()) continue;
            String[] f = line.split("\\s+");
            String[] w = new String[f.length], t = new String[f.length];
            for (int i = 0; i < f.length; i++) {
                int s = f[i].lastIndexOf('/');
                w[i] = f[i].substring(0, s);
                t[i] = f[i].substring(s + 1);
            }
            out.add(new String[][] {w, t});
        }
        return out;
    }

    static List<String[][]> readConll(String path) throws IOException {
        List<String[][]> out = new ArrayList<>();
        List<String> w = new ArrayList<>(), t = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8)) {
            String[] f = line.split("\t");
            if (line.trim().isEmpty() || f.length < 2) {
                if (!w.isEmpty()) out.add(new String[][] {w.toArray(new String[0]), t.toArray(new String[0])});
                w.clear();
                t.clear();
                continue;
            }
            w.add(f[0].trim());
            t.add(f[f.length - 1].trim());
        }
        if (!w.isEmpty()) out.add(new String[][] {w.toArray(new String[0]), t.toArray(new String[0])});
        return out;
    }

    // BIO (with conlleval's reading of a stray I-) -> OpenNLP spans
    static Span[] spans(String[] tags) {
        List<Span> s = new ArrayList<>();
        int start = -1;
        String type = null;
        for (int i = 0; i <= tags.length; i++) {
            String t = i < tags.length ? tags[i] : "O";
            boolean cont = t.startsWith("I-") && type != null && t.substring(2).equals(type);
            if (start >= 0 && !cont) {
                s.add(new Span(start, i, type));
                start = -1;
                type = null;
            }
            if (t.startsWith("B-") || (t.startsWith("I-") && !cont)) {
                start = i;
                type = t.substring(2);
            }
        }
        return s.toArray(new Span[0]);
    }

    static String[] bio(Span[] spans, int n) {
        String[] t = new String[n];
        Arrays.fill(t, "O");
        for (Span s : spans)
            for (int i = s.getStart(); i < s.getEnd(); i++)
                t[i] = (i == s.getStart() ? "B-" : "I-") + s.getType();
        return t;
    }

    public static void main(String[] a) throws Exception {
        String task = a[0];
        if (task.endsWith("-tag")) { // tag only, with a saved model: MODEL TEST PRED_OUT
            boolean p = task.startsWith("pos");
            List<String[][]> test = p ? readPos(a[2]) : readConll(a[2]);
            POSTaggerME tg = p ? new POSTaggerME(new POSModel(new File(a[1]))) : null;
            NameFinderME nf = p ? null : new NameFinderME(new TokenNameFinderModel(new File(a[1])));
            long tokens = 0;
            for (String[][] s : test) tokens += s[0].length;
            for (int rep = 0; rep < 2; rep++) { // the first pass warms the JIT up
                long t1 = System.nanoTime();
                for (String[][] s : test) {
                    if (p) tg.tag(s[0]);
                    else { nf.find(s[0]); nf.clearAdaptiveData(); }
                }
                if (rep == 1)
                    System.out.printf("tag_sec=%.4f tokens=%d%n", (System.nanoTime() - t1) / 1e9, tokens);
            }
            return;
        }
        TrainingParameters params = TrainingParameters.defaultParams();
        params.put(TrainingParameters.THREADS_PARAM, 1);
        boolean pos = task.equals("pos");
        List<String[][]> train = pos ? readPos(a[1]) : readConll(a[1]);
        long t0 = System.nanoTime();
        POSTaggerME tagger = null;
        NameFinderME finder = null;
        if (pos) {
            List<POSSample> samples = new ArrayList<>();
            for (String[][] s : train) samples.add(new POSSample(s[0], s[1]));
            POSModel model = POSTaggerME.train("en", ObjectStreamUtils.createObjectStream(samples), params, new POSTaggerFactory());
            System.out.printf("train_sec=%.3f ", (System.nanoTime() - t0) / 1e9);
            try (OutputStream o = new BufferedOutputStream(new FileOutputStream(a[2]))) { model.serialize(o); }
            tagger = new POSTaggerME(model);
        } else {
            List<NameSample> samples = new ArrayList<>();
            for (String[][] s : train) samples.add(new NameSample(s[0], spans(s[1]), false));
            TokenNameFinderModel model = NameFinderME.train("en", null, ObjectStreamUtils.createObjectStream(samples), params, new TokenNameFinderFactory());
            System.out.printf("train_sec=%.3f ", (System.nanoTime() - t0) / 1e9);
            try (OutputStream o = new BufferedOutputStream(new FileOutputStream(a[2]))) { model.serialize(o); }
            finder = new NameFinderME(model);
        }
        System.out.printf("model_bytes=%d%n", new File(a[2]).length());
        for (int k = 3; k + 1 < a.length; k += 2) {
            List<String[][]> test = pos ? readPos(a[k]) : readConll(a[k]);
            String[][] predicted = new String[test.size()][];
            long tokens = 0;
            for (String[][] s : test) tokens += s[0].length;
            for (String[][] s : test) { // warm-up
                if (pos) tagger.tag(s[0]);
                else { finder.find(s[0]); finder.clearAdaptiveData(); }
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < test.size(); i++) {
                if (pos) predicted[i] = tagger.tag(test.get(i)[0]);
                else {
                    predicted[i] = bio(finder.find(test.get(i)[0]), test.get(i)[0].length);
                    finder.clearAdaptiveData();
                }
            }
            double tagSec = (System.nanoTime() - t1) / 1e9;
            try (PrintWriter w = new PrintWriter(new OutputStreamWriter(new FileOutputStream(a[k + 1]), StandardCharsets.UTF_8))) {
                for (int i = 0; i < test.size(); i++) {
                    String[][] s = test.get(i);
                    for (int j = 0; j < s[0].length; j++) w.println(s[0][j] + "\t" + s[1][j] + "\t" + predicted[i][j]);
                    w.println();
                }
            }
            System.out.printf("test=%d tag_sec=%.4f tokens=%d%n", (k - 3) / 2, tagSec, tokens);
        }
    }
}
