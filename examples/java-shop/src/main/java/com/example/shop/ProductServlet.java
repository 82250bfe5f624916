package com.example.shop;

import java.io.IOException;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.List;
import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.servlet.ServletException;
import javax.servlet.annotation.WebServlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.sql.DataSource;
import org.owasp.encoder.Encode;

/** Product search and product pages. */
@WebServlet("/products")
public class ProductServlet extends HttpServlet {

    private ProductDao dao;

    @Override
    public void init() throws ServletException {
        try {
            DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/jdbc/shop");
            dao = new ProductDao(ds);
        } catch (NamingException e) {
            throw new ServletException(e);
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        response.setContentType("text/html;charset=UTF-8");
        PrintWriter out = response.getWriter();
        String id = request.getParameter("id");
        try {
            if (id != null) {
                // Safe: prepared statement in the DAO, output HTML-encoded.
                String name = dao.findNameById(id);
                out.println("<h1>" + Encode.forHtml(name) + "</h1>");
                return;
            }
            String query = request.getParameter("q");
            // VULNERABLE: the search term is echoed without encoding (reflected XSS) ...
            out.println("<h2>Results for " + query + "</h2>");
            // ... and reaches SQL text inside ProductDao.searchByName (SQL injection across files).
            List<String> names = dao.searchByName(query);
            out.println("<p>" + names.size() + " products</p>");
        } catch (SQLException e) {
            throw new ServletException(e);
        }
    }
}
