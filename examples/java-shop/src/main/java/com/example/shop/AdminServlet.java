package com.example.shop;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import javax.servlet.ServletException;
import javax.servlet.annotation.WebServlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** Back-office tools: database backups and log downloads. */
@WebServlet("/admin/*")
public class AdminServlet extends HttpServlet {

    private static final String LOG_DIR = "/var/log/shop";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        // VULNERABLE: the file name comes from the request (path traversal: ?file=../../etc/passwd).
        String fileName = request.getParameter("file");
        File log = new File(LOG_DIR, fileName);
        response.setContentType("text/plain");
        try (InputStream in = new FileInputStream(log)) {
            in.transferTo(response.getOutputStream());
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        // VULNERABLE: the backup label becomes part of a shell command (command injection).
        String label = request.getParameter("label");
        String[] cmd = {"/bin/sh", "-c", "pg_dump shop > /backups/" + label + ".sql"};
        Process p = Runtime.getRuntime().exec(cmd);
        try {
            response.setStatus(p.waitFor() == 0 ? 204 : 500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.setStatus(503);
        }
    }
}
