# frozen_string_literal: true

# Installed by `nbjekyll init` (the site kit). A post (or tutorial chapter) made by nbjekyll says
# when its notebook last ran in its provenance stamp, _data/provenance/SLUG.yml (`executed`, UTC).
# When that was after the post's date, this sets the page's `last_modified_at` to it, the key that
# jekyll-seo-tag (dateModified), jekyll-feed (<updated>) and jekyll-sitemap (<lastmod>) read and a
# layout can show under the date. The post's own file carries no time, so the same notebook still
# gives the same bytes. A page that sets last_modified_at itself keeps its own. Builds that load no
# plugins from _plugins/ (GitHub Pages' own builder) skip it; the stamp at the post's end still
# gives the time.
require "time"

module NbJekyll
  class LastModified < Jekyll::Generator
    safe true
    priority :highest

    def generate(site)
      stamps = site.data["provenance"]
      return unless stamps.is_a?(Hash)

      site.collections.each_value do |collection|
        collection.docs.each do |doc|
          executed = executed_time(doc, stamps)
          next if executed.nil?

          published = doc.data["date"]
          next if published && executed.to_date <= published.to_date

          doc.data["last_modified_at"] = executed
        end
      end
    end

    private

    def executed_time(doc, stamps)
      return nil if doc.data.key?("last_modified_at") || !doc.data["notebook"]

      stamp = stamps[doc.data["slug"] || doc.basename_without_ext]
      return nil unless stamp.is_a?(Hash) && stamp["executed"].is_a?(String)

      Time.iso8601(stamp["executed"]).utc
    rescue ArgumentError
      nil
    end
  end
end
